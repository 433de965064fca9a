package proc

import (
	"os"
	"path/filepath"
	"testing"
)

// fixtureFS lays the fixtures out as a proc tree under a temporary root:
// self/ holds one process, 4242/ the same files under a pid.
func fixtureFS(t *testing.T) FS {
	t.Helper()
	root := t.TempDir()
	for dst, src := range map[string]string{
		"self/maps":                     "maps-xonly-6.18.txt",
		"self/auxv":                     "auxv-cat-6.18.bin",
		"self/stat":                     "stat-cat-6.18.txt",
		"4242/stat":                     "stat-comm-paren-6.18.txt",
		"cpuinfo":                       "cpuinfo-epyc.txt",
		"cmdline":                       "",
		"sys/vm/mmap_rnd_bits":          "",
		"sys/kernel/randomize_va_space": "",
	} {
		var b []byte
		switch dst {
		case "cmdline":
			b = []byte("console=ttyS0 vsyscall=xonly quiet\n")
		case "sys/vm/mmap_rnd_bits":
			b = []byte("28\n")
		case "sys/kernel/randomize_va_space":
			b = []byte("two\n")
		default:
			var err error
			if b, err = os.ReadFile(filepath.Join("testdata", src)); err != nil {
				t.Fatal(err)
			}
		}
		p := filepath.Join(root, dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return FS{Root: root}
}

func TestFSReadsUnderRoot(t *testing.T) {
	fs := fixtureFS(t)
	ms, err := fs.Maps(0)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := ms.Find("[vsyscall]"); !ok || v.Perms != "--xp" {
		t.Errorf("self/maps: [vsyscall] = %v, %v", v, ok)
	}
	a, err := fs.Auxv(0)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Get(AT_SYSINFO_EHDR); v != 0x7f1ba1f2f000 {
		t.Errorf("self/auxv: AT_SYSINFO_EHDR = %#x", v)
	}
	if s, err := fs.Stat(0); err != nil || s.Comm != "cat" {
		t.Errorf("self/stat: %+v, %v", s, err)
	}
	if s, err := fs.Stat(4242); err != nil || s.Comm != "we ird) (comm" {
		t.Errorf("4242/stat: %+v, %v", s, err)
	}
	if _, err := fs.Stat(4243); !os.IsNotExist(err) {
		t.Errorf("absent pid: err = %v, want not-exist", err)
	}
	if c, err := fs.Cmdline(); err != nil || c != "console=ttyS0 vsyscall=xonly quiet" {
		t.Errorf("cmdline = %q, %v", c, err)
	}
	if ci, err := fs.CPUInfo(); err != nil || ci.VendorID != "AuthenticAMD" {
		t.Errorf("cpuinfo: %+v, %v", ci, err)
	}
	if v, err := fs.SysctlInt("vm.mmap_rnd_bits"); err != nil || v != 28 {
		t.Errorf("vm.mmap_rnd_bits = %d, %v", v, err)
	}
	if _, err := fs.SysctlInt("kernel.randomize_va_space"); err == nil {
		t.Error("a non-numeric sysctl read as an int")
	}
	if _, err := fs.Sysctl("vm.overcommit_memory"); !os.IsNotExist(err) {
		t.Errorf("absent sysctl: err = %v", err)
	}
	if got := fs.Path("sys", "vm"); got != filepath.Join(fs.Root, "sys", "vm") {
		t.Errorf("Path = %q", got)
	}
}

func TestLiveIsProc(t *testing.T) {
	if Live.Root != "/proc" || Live.pidPath(0, "maps") != "/proc/self/maps" || Live.pidPath(7, "stat") != "/proc/7/stat" {
		t.Errorf("Live = %+v: %s, %s", Live, Live.pidPath(0, "maps"), Live.pidPath(7, "stat"))
	}
}
