package proc

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultRoot is where Linux mounts the proc file system.
const DefaultRoot = "/proc"

// FS is a proc file system mounted at Root, as prometheus/procfs's FS: the
// running machine's is Live; tests point Root at a fixture tree holding
// the same relative paths (self/maps, cpuinfo, sys/vm/mmap_rnd_bits...).
type FS struct {
	Root string
}

// Live is the proc file system of the running machine.
var Live = FS{Root: DefaultRoot}

// Path joins Root and the elements, e.g. Path("sys", "vm", "mmap_rnd_bits").
func (fs FS) Path(elem ...string) string {
	return filepath.Join(append([]string{fs.Root}, elem...)...)
}

// pidPath is ROOT/PID/name; pid 0 means the calling process ("self").
func (fs FS) pidPath(pid int, name string) string {
	p := "self"
	if pid != 0 {
		p = strconv.Itoa(pid)
	}
	return fs.Path(p, name)
}

// Maps reads ROOT/PID/maps; pid 0 means the calling process ("self").
func (fs FS) Maps(pid int) (Maps, error) {
	b, err := os.ReadFile(fs.pidPath(pid, "maps"))
	if err != nil {
		return nil, err
	}
	return AppendMaps(nil, b)
}

// Auxv reads ROOT/PID/auxv; pid 0 means the calling process ("self").
// Reading another process's vector needs ptrace read access to it.
func (fs FS) Auxv(pid int) (Auxv, error) {
	b, err := os.ReadFile(fs.pidPath(pid, "auxv"))
	if err != nil {
		return nil, err
	}
	return ParseAuxv(b)
}

// Stat reads ROOT/PID/stat; pid 0 means the calling process ("self").
func (fs FS) Stat(pid int) (Stat, error) {
	b, err := os.ReadFile(fs.pidPath(pid, "stat"))
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(b)
}

// Cmdline returns ROOT/cmdline, the kernel's boot arguments, without the
// trailing newline.
func (fs FS) Cmdline() (string, error) {
	return readLine(fs.Path("cmdline"))
}

// CPUInfo parses the first processor block of ROOT/cpuinfo.
func (fs FS) CPUInfo() (CPUInfo, error) {
	b, err := os.ReadFile(fs.Path("cpuinfo"))
	if err != nil {
		return CPUInfo{}, err
	}
	return ParseCPUInfo(bytes.NewReader(b))
}

// Sysctl returns the value of a sysctl named as sysctl(8) names it
// ("vm.mmap_rnd_bits"), read from ROOT/sys/vm/mmap_rnd_bits, trimmed.
func (fs FS) Sysctl(name string) (string, error) {
	return readLine(fs.Path("sys", strings.ReplaceAll(name, ".", "/")))
}

// SysctlInt is Sysctl for an integer sysctl.
func (fs FS) SysctlInt(name string) (int, error) {
	s, err := fs.Sysctl(name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}

// The package-level readers are shorthands for the running machine's /proc.

// ReadMaps is Live.Maps.
func ReadMaps(pid int) (Maps, error) { return Live.Maps(pid) }

// ReadAuxv is Live.Auxv.
func ReadAuxv(pid int) (Auxv, error) { return Live.Auxv(pid) }

// ReadStat is Live.Stat.
func ReadStat(pid int) (Stat, error) { return Live.Stat(pid) }

// ReadCmdline is Live.Cmdline.
func ReadCmdline() (string, error) { return Live.Cmdline() }

// ReadCPUInfo is Live.CPUInfo.
func ReadCPUInfo() (CPUInfo, error) { return Live.CPUInfo() }

// readLine reads a one-line file, trimmed of surrounding white space.
func readLine(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
