package aslr

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"testing"
)

// objdumpWords reads a disassembly of testdata (objdump -D -b binary -m
// aarch64 of the assembled listing): offset -> instruction word.
func objdumpWords(t *testing.T, name string) (words []uint32, text []string) {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(strings.TrimSpace(line), "\t", 3)
		if len(fields) < 3 {
			t.Fatalf("%s: %q is not an objdump line", name, line)
		}
		off, err1 := strconv.ParseUint(strings.TrimSuffix(fields[0], ":"), 16, 32)
		w, err2 := strconv.ParseUint(strings.TrimSpace(fields[1]), 16, 32)
		if err1 != nil || err2 != nil || int(off) != 4*len(words) {
			t.Fatalf("%s: bad line %q", name, line)
		}
		words = append(words, uint32(w))
		text = append(text, strings.TrimSpace(fields[2]))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return words, text
}

// The machine code, constants patched in from x/sys/unix, proc and
// selfreport.go, must be word for word what GNU as made of the listing in
// the comments of target_arm64.go.
func TestA64CodeIsTheListing(t *testing.T) {
	for _, c := range []struct {
		name, fixture string
		code          []byte
	}{
		{"reportCode(true)", "target_arm64_report.objdump", reportCode(true)},
		{"reportCode(false)", "target_arm64_report_spawn.objdump", reportCode(false)},
		{"noopChainCode", "target_arm64_noop.objdump", noopChainCode()},
		{"vforkCode", "target_arm64_stub.objdump", vforkCode()},
		{"exitCode", "target_arm64_exit.objdump", exitCode()},
	} {
		want, text := objdumpWords(t, c.fixture)
		if len(c.code) != 4*len(want) {
			t.Errorf("%s: %d bytes, the listing has %d instructions", c.name, len(c.code), len(want))
			continue
		}
		for i, w := range want {
			if got := binary.LittleEndian.Uint32(c.code[4*i:]); got != w {
				t.Errorf("%s %#02x: %#08x, the listing has %#08x (%s)", c.name, 4*i, got, w, text[i])
			}
		}
	}
}

// The image is a static-PIE for AArch64: ET_DYN, no PT_INTERP, entry at
// the code.
func TestA64TargetELF(t *testing.T) {
	f, err := elf.NewFile(bytes.NewReader(targetELF(true)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_DYN || f.Entry != codeOffset || !isLoader(f) {
		t.Errorf("machine %v type %v entry %#x loader %v, want EM_AARCH64 ET_DYN %#x true", f.Machine, f.Type, f.Entry, isLoader(f), codeOffset)
	}
}
