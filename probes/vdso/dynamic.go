package vdso

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// The program-header parser: what a dynamic loader (and the Go runtime's
// runtime/vdso_linux.go) sees of a shared object when the section headers
// are stripped or unmapped. It works on image offsets; the image is the
// file as mapped, so a virtual address v lies at offset
// v - p_vaddr + p_offset of the PT_LOAD that contains it.

var le = binary.LittleEndian

// checkHeader validates the ELF header enough to trust its offsets.
func checkHeader(image []byte) error {
	if len(image) < sizeofHeader64 {
		return fmt.Errorf("%w: %d bytes, shorter than an ELF header", ErrBadImage, len(image))
	}
	if !bytes.Equal(image[:4], []byte(elf.ELFMAG)) {
		return fmt.Errorf("%w: no ELF magic (starts % x)", ErrBadImage, image[:4])
	}
	if elf.Class(image[elf.EI_CLASS]) != elf.ELFCLASS64 || elf.Data(image[elf.EI_DATA]) != elf.ELFDATA2LSB {
		return fmt.Errorf("%w: not a little-endian ELF64 image", ErrBadImage)
	}
	return nil
}

// header reads the ELF header and the program headers.
func header(image []byte) (elf.Header64, []elf.Prog64, error) {
	var h elf.Header64
	if err := checkHeader(image); err != nil {
		return h, nil, err
	}
	binary.Read(bytes.NewReader(image), le, &h) // length checked above
	if h.Phentsize != sizeofProg64 {
		return h, nil, fmt.Errorf("%w: e_phentsize %d, want %d", ErrBadImage, h.Phentsize, sizeofProg64)
	}
	end := h.Phoff + uint64(h.Phnum)*sizeofProg64
	if h.Phnum == 0 || h.Phoff > uint64(len(image)) || end > uint64(len(image)) {
		return h, nil, fmt.Errorf("%w: program headers (%d at %#x) lie outside the %d-byte image", ErrBadImage, h.Phnum, h.Phoff, len(image))
	}
	progs := make([]elf.Prog64, h.Phnum)
	binary.Read(bytes.NewReader(image[h.Phoff:end]), le, progs)
	return h, progs, nil
}

// loadBias is p_offset - p_vaddr of the first PT_LOAD: added to a symbol's
// value (and the image base) it gives the run-time address.
func loadBias(image []byte) (int64, error) {
	_, progs, err := header(image)
	if err != nil {
		return 0, err
	}
	for _, p := range progs {
		if elf.ProgType(p.Type) == elf.PT_LOAD {
			return int64(p.Off) - int64(p.Vaddr), nil
		}
	}
	return 0, fmt.Errorf("%w: no PT_LOAD segment", ErrBadImage)
}

// imageSize returns how many bytes from the start of a mapped image the
// PT_LOAD segments span, rounded up to a page (load), and the same counting
// the section headers too (full). The kernel maps the whole image
// page-aligned (arch/x86/entry/vdso/vma.c), and on x86 the image is the
// whole stripped file, section headers included (arch/x86/tools/vdso2c.h
// sizes it from the file's length), so full is normally mapped; Open still
// checks before reading past load.
func imageSize(image []byte, pageSize int) (load, full int, err error) {
	h, progs, err := header(image)
	if err != nil {
		return 0, 0, err
	}
	var end uint64
	for _, p := range progs {
		if elf.ProgType(p.Type) == elf.PT_LOAD && p.Off+p.Filesz > end {
			end = p.Off + p.Filesz
		}
	}
	if end == 0 {
		return 0, 0, fmt.Errorf("%w: no PT_LOAD segment", ErrBadImage)
	}
	ps := uint64(pageSize)
	round := func(n uint64) uint64 { return (n + ps - 1) / ps * ps }
	l := round(end)
	if l > maxImage {
		return 0, 0, fmt.Errorf("%w: PT_LOAD ends at %#x, implausibly large", ErrBadImage, end)
	}
	f := l
	if h.Shoff != 0 && h.Shnum != 0 {
		if e := round(h.Shoff + uint64(h.Shnum)*uint64(h.Shentsize)); e > f && e <= maxImage {
			f = e
		}
	}
	return int(l), int(f), nil
}

// maxImage bounds what Open will copy: x86-64 vDSOs are two pages.
const maxImage = 1 << 20

// vaddrOff translates a virtual address of n bytes into an image offset.
func vaddrOff(image []byte, progs []elf.Prog64, v, n uint64) (uint64, error) {
	for _, p := range progs {
		if elf.ProgType(p.Type) != elf.PT_LOAD || v < p.Vaddr || v-p.Vaddr >= p.Filesz {
			continue
		}
		off := v - p.Vaddr + p.Off
		if off+n < off || off+n > uint64(len(image)) {
			break
		}
		return off, nil
	}
	return 0, fmt.Errorf("%w: address %#x (+%d bytes) is not in a loaded segment of the image", ErrBadImage, v, n)
}

// parseDynamic reads the dynamic symbols through PT_DYNAMIC.
func parseDynamic(image []byte) ([]Symbol, error) {
	_, progs, err := header(image)
	if err != nil {
		return nil, err
	}
	var dyn *elf.Prog64
	for i := range progs {
		if elf.ProgType(progs[i].Type) == elf.PT_DYNAMIC {
			dyn = &progs[i]
		}
	}
	if dyn == nil {
		return nil, fmt.Errorf("%w: no PT_DYNAMIC segment", ErrBadImage)
	}
	if dyn.Off+dyn.Filesz < dyn.Off || dyn.Off+dyn.Filesz > uint64(len(image)) {
		return nil, fmt.Errorf("%w: PT_DYNAMIC lies outside the image", ErrBadImage)
	}
	tags := map[elf.DynTag]uint64{}
	for b := image[dyn.Off : dyn.Off+dyn.Filesz]; len(b) >= sizeofDyn64; b = b[sizeofDyn64:] {
		tag, val := elf.DynTag(le.Uint64(b)), le.Uint64(b[8:])
		if tag == dtNull {
			break
		}
		tags[tag] = val
	}
	for _, t := range []elf.DynTag{dtSymtab, dtStrtab} {
		if _, ok := tags[t]; !ok {
			return nil, fmt.Errorf("%w: PT_DYNAMIC has no %v", ErrBadImage, t)
		}
	}
	if e, ok := tags[dtSyment]; ok && e != sizeofSym64 {
		return nil, fmt.Errorf("%w: DT_SYMENT %d, want %d", ErrBadImage, e, sizeofSym64)
	}

	strOff, err := vaddrOff(image, progs, tags[dtStrtab], 1)
	if err != nil {
		return nil, fmt.Errorf("DT_STRTAB: %w", err)
	}
	strtab := image[strOff:]
	if sz, ok := tags[dtStrsz]; ok && sz <= uint64(len(strtab)) {
		strtab = strtab[:sz]
	}
	str := func(i uint32) (string, error) {
		if uint64(i) >= uint64(len(strtab)) {
			return "", fmt.Errorf("%w: string offset %d outside DT_STRTAB", ErrBadImage, i)
		}
		s := strtab[i:]
		if n := bytes.IndexByte(s, 0); n >= 0 {
			return string(s[:n]), nil
		}
		return "", fmt.Errorf("%w: unterminated string in DT_STRTAB", ErrBadImage)
	}

	nsym, err := symbolCount(image, progs, tags)
	if err != nil {
		return nil, err
	}
	symOff, err := vaddrOff(image, progs, tags[dtSymtab], uint64(nsym)*sizeofSym64)
	if err != nil {
		return nil, fmt.Errorf("DT_SYMTAB: %w", err)
	}

	// Version names by verdef index (vd_ndx).
	versions := map[uint16]string{}
	if vd, ok := tags[dtVerdef]; ok {
		if versions, err = verdefs(image, progs, vd, tags[dtVerdefN], str); err != nil {
			return nil, err
		}
	}
	var versym []byte
	if vs, ok := tags[dtVersym]; ok {
		off, err := vaddrOff(image, progs, vs, uint64(nsym)*2)
		if err != nil {
			return nil, fmt.Errorf("DT_VERSYM: %w", err)
		}
		versym = image[off : off+uint64(nsym)*2]
	}

	syms := make([]Symbol, 0, nsym)
	for i := 1; i < nsym; i++ { // index 0 is the null symbol
		b := image[symOff+uint64(i)*sizeofSym64:]
		s := elf.Sym64{Name: le.Uint32(b), Info: b[4], Other: b[5], Shndx: le.Uint16(b[6:]), Value: le.Uint64(b[8:]), Size: le.Uint64(b[16:])}
		name, err := str(s.Name)
		if err != nil {
			return nil, fmt.Errorf("symbol %d: %w", i, err)
		}
		sym := Symbol{
			Name:    name,
			Value:   s.Value,
			Size:    s.Size,
			Func:    elf.ST_TYPE(s.Info) == elf.STT_FUNC,
			Defined: elf.SectionIndex(s.Shndx) != elf.SHN_UNDEF,
		}
		if versym != nil {
			// Index 0 is local, 1 the file itself: no version name, as
			// debug/elf reports them.
			if ndx := le.Uint16(versym[2*i:]) & versymIndex; ndx > 1 {
				v, ok := versions[ndx]
				if !ok {
					return nil, fmt.Errorf("%w: symbol %q has version index %d with no DT_VERDEF entry", ErrBadImage, name, ndx)
				}
				sym.Version = v
			}
		}
		syms = append(syms, sym)
	}
	return syms, nil
}

// symbolCount is the number of entries in DT_SYMTAB, which the dynamic
// section does not state: DT_HASH's nchain gives it directly; with only
// DT_GNU_HASH it is one past the last symbol of the longest-reaching chain.
func symbolCount(image []byte, progs []elf.Prog64, tags map[elf.DynTag]uint64) (int, error) {
	const maxSyms = maxImage / sizeofSym64
	if h, ok := tags[dtHash]; ok {
		off, err := vaddrOff(image, progs, h, 8)
		if err != nil {
			return 0, fmt.Errorf("DT_HASH: %w", err)
		}
		n := le.Uint32(image[off+4:]) // nbucket, nchain
		if n > maxSyms {
			return 0, fmt.Errorf("%w: DT_HASH says %d symbols", ErrBadImage, n)
		}
		return int(n), nil
	}
	g, ok := tags[dtGNUHash]
	if !ok {
		return 0, fmt.Errorf("%w: neither DT_HASH nor DT_GNU_HASH", ErrBadImage)
	}
	off, err := vaddrOff(image, progs, g, 16)
	if err != nil {
		return 0, fmt.Errorf("DT_GNU_HASH: %w", err)
	}
	nbucket, symoffset, bloomSize := uint64(le.Uint32(image[off:])), le.Uint32(image[off+4:]), uint64(le.Uint32(image[off+8:]))
	buckets := off + 16 + bloomSize*8
	if nbucket > maxSyms || bloomSize > maxSyms || buckets+nbucket*4 > uint64(len(image)) {
		return 0, fmt.Errorf("%w: DT_GNU_HASH tables lie outside the image", ErrBadImage)
	}
	var last uint32
	for i := uint64(0); i < nbucket; i++ {
		last = max(last, le.Uint32(image[buckets+4*i:]))
	}
	if last < symoffset {
		return int(symoffset), nil
	}
	chain := buckets + nbucket*4
	for n := last; ; n++ {
		at := chain + uint64(n-symoffset)*4
		if n-symoffset > maxSyms || at+4 > uint64(len(image)) {
			return 0, fmt.Errorf("%w: DT_GNU_HASH chain runs off the image", ErrBadImage)
		}
		if le.Uint32(image[at:])&1 != 0 { // low bit ends a chain
			return int(n) + 1, nil
		}
	}
}

// verdefs walks DT_VERDEF and returns each version's name by index.
func verdefs(image []byte, progs []elf.Prog64, v, num uint64, str func(uint32) (string, error)) (map[uint16]string, error) {
	out := map[uint16]string{}
	off, err := vaddrOff(image, progs, v, sizeofVerdef)
	if err != nil {
		return nil, fmt.Errorf("DT_VERDEF: %w", err)
	}
	for i := 0; i < 1<<12; i++ {
		if off+sizeofVerdef > uint64(len(image)) {
			return nil, fmt.Errorf("%w: DT_VERDEF runs off the image", ErrBadImage)
		}
		b := image[off:]
		d := verdef64{le.Uint16(b), le.Uint16(b[2:]), le.Uint16(b[4:]), le.Uint16(b[6:]), le.Uint32(b[8:]), le.Uint32(b[12:]), le.Uint32(b[16:])}
		if d.Version != 1 {
			return nil, fmt.Errorf("%w: DT_VERDEF entry version %d", ErrBadImage, d.Version)
		}
		if d.Flags&verFlagBase == 0 && d.Cnt > 0 {
			a := off + uint64(d.Aux)
			if a+sizeofVerdaux > uint64(len(image)) {
				return nil, fmt.Errorf("%w: DT_VERDEF aux entry runs off the image", ErrBadImage)
			}
			name, err := str(le.Uint32(image[a:]))
			if err != nil {
				return nil, fmt.Errorf("DT_VERDEF: %w", err)
			}
			out[d.Ndx] = name
		}
		if d.Next == 0 || (num > 0 && uint64(i+1) >= num) {
			return out, nil
		}
		off += uint64(d.Next)
	}
	return nil, fmt.Errorf("%w: DT_VERDEF does not end", ErrBadImage)
}
