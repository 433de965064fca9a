package vdso

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// The parser reads a vDSO the way the Go runtime (runtime/vdso_linux.go,
// vdso_elf64.go) and the kernel's sample parser
// (tools/testing/selftests/vDSO/parse_vdso.c) do: from the program headers
// only, PT_LOAD for the load bias and PT_DYNAMIC for DT_SYMTAB, DT_STRTAB,
// DT_HASH or DT_GNU_HASH, DT_VERSYM and DT_VERDEF. That is all a dynamic
// loader may rely on: section headers are optional at run time, and the
// kernel only promises the image it maps (arch/x86/entry/vdso/vma.c) holds
// what its loadable segment spans. debug/elf supplies the layouts' names and
// constants only.
//
// It works on image offsets: the image is the file as mapped, so a virtual
// address v lies at offset v - p_vaddr + p_offset of the PT_LOAD that holds
// it. Every sum and product of header fields is checked for overflow and
// against the image's length before it indexes the image: a header may say
// anything.

var le = binary.LittleEndian

// Sizes of the ELF64 structures read (include/uapi/linux/elf.h) and of the
// symbol versioning ones (LSB Core, "Symbol Versioning").
const (
	sizeofHeader64 = 64 // Elf64_Ehdr
	sizeofProg64   = 56 // Elf64_Phdr
	sizeofSym64    = 24 // Elf64_Sym
	sizeofDyn64    = 16 // Elf64_Dyn
	sizeofVerdef   = 20 // Elf64_Verdef
	sizeofVerdaux  = 8  // Elf64_Verdaux

	verFlagBase = 0x1    // VER_FLG_BASE: the verdef names the file, not a version
	versymIndex = 0x7fff // a versym entry's verdef index; bit 15 (hidden) is ignored, as the runtime does
)

// maxImage bounds what Open will copy and what a header may claim: x86-64
// vDSOs are two pages.
const maxImage = 1 << 20

// add returns a+b and whether it did not overflow.
func add(a, b uint64) (uint64, bool) {
	s, carry := bits.Add64(a, b, 0)
	return s, carry == 0
}

// span reports whether [off, off+n) lies within an image of size bytes.
func span(off, n uint64, size int) bool {
	end, ok := add(off, n)
	return ok && end <= uint64(size)
}

// header validates the ELF header and returns the program headers.
func header(image []byte) ([]elf.Prog64, error) {
	if len(image) < sizeofHeader64 {
		return nil, fmt.Errorf("%w: %d bytes, shorter than an ELF header", ErrBadImage, len(image))
	}
	if !bytes.Equal(image[:4], []byte(elf.ELFMAG)) {
		return nil, fmt.Errorf("%w: no ELF magic (starts % x)", ErrBadImage, image[:4])
	}
	if elf.Class(image[elf.EI_CLASS]) != elf.ELFCLASS64 || elf.Data(image[elf.EI_DATA]) != elf.ELFDATA2LSB {
		return nil, fmt.Errorf("%w: not a little-endian ELF64 image", ErrBadImage)
	}
	phoff := le.Uint64(image[0x20:])     // e_phoff
	phentsize := le.Uint16(image[0x36:]) // e_phentsize
	phnum := uint64(le.Uint16(image[0x38:]))
	if phentsize != sizeofProg64 {
		return nil, fmt.Errorf("%w: e_phentsize %d, want %d", ErrBadImage, phentsize, sizeofProg64)
	}
	if phnum == 0 || !span(phoff, phnum*sizeofProg64, len(image)) { // phnum < 2^16: no overflow
		return nil, fmt.Errorf("%w: program headers (%d at %#x) lie outside the %d-byte image", ErrBadImage, phnum, phoff, len(image))
	}
	progs := make([]elf.Prog64, phnum)
	for i := range progs {
		b := image[phoff+uint64(i)*sizeofProg64:]
		progs[i] = elf.Prog64{
			Type: le.Uint32(b), Flags: le.Uint32(b[4:]), Off: le.Uint64(b[8:]), Vaddr: le.Uint64(b[16:]),
			Paddr: le.Uint64(b[24:]), Filesz: le.Uint64(b[32:]), Memsz: le.Uint64(b[40:]), Align: le.Uint64(b[48:]),
		}
	}
	return progs, nil
}

// firstLoad returns the first PT_LOAD, which the runtime and parse_vdso.c
// take as the image's (the x86-64 vDSO has exactly one).
func firstLoad(progs []elf.Prog64) (elf.Prog64, error) {
	for _, p := range progs {
		if elf.ProgType(p.Type) == elf.PT_LOAD {
			return p, nil
		}
	}
	return elf.Prog64{}, fmt.Errorf("%w: no PT_LOAD segment", ErrBadImage)
}

// imageSize returns how many bytes from the start of a mapped image its
// PT_LOAD segments span, rounded up to a page: what Open copies. The
// kernel maps the whole image page-aligned (arch/x86/entry/vdso/vma.c).
func imageSize(image []byte, pageSize int) (int, error) {
	progs, err := header(image)
	if err != nil {
		return 0, err
	}
	if _, err := firstLoad(progs); err != nil {
		return 0, err
	}
	var end uint64
	for _, p := range progs {
		if elf.ProgType(p.Type) != elf.PT_LOAD {
			continue
		}
		e, ok := add(p.Off, p.Filesz)
		if !ok || e > maxImage {
			return 0, fmt.Errorf("%w: PT_LOAD at offset %#x of %#x bytes ends past %d bytes", ErrBadImage, p.Off, p.Filesz, maxImage)
		}
		end = max(end, e)
	}
	if end == 0 {
		return 0, fmt.Errorf("%w: PT_LOAD segments are empty", ErrBadImage)
	}
	ps := uint64(pageSize)
	return int((end + ps - 1) / ps * ps), nil // end <= maxImage: no overflow
}

// loadBias is p_offset - p_vaddr of the first PT_LOAD: added to a symbol's
// value (and the image base) it gives the run-time address.
func loadBias(progs []elf.Prog64) (int64, error) {
	p, err := firstLoad(progs)
	if err != nil {
		return 0, err
	}
	return int64(p.Off - p.Vaddr), nil // two's complement: the difference, whatever the sign
}

// vaddrOff translates a virtual address of n bytes into an image offset.
func vaddrOff(image []byte, progs []elf.Prog64, v, n uint64) (uint64, error) {
	for _, p := range progs {
		if elf.ProgType(p.Type) != elf.PT_LOAD || v < p.Vaddr || v-p.Vaddr >= p.Filesz {
			continue
		}
		off, ok := add(v-p.Vaddr, p.Off)
		if ok && span(off, n, len(image)) {
			return off, nil
		}
		break
	}
	return 0, fmt.Errorf("%w: address %#x (+%d bytes) is not in a loaded segment of the image", ErrBadImage, v, n)
}

// dynamic reads the tags of PT_DYNAMIC, the first value of each, up to
// DT_NULL.
func dynamic(image []byte, progs []elf.Prog64) (map[elf.DynTag]uint64, error) {
	var dyn *elf.Prog64
	for i := range progs {
		if elf.ProgType(progs[i].Type) == elf.PT_DYNAMIC {
			dyn = &progs[i]
			break
		}
	}
	if dyn == nil {
		return nil, fmt.Errorf("%w: no PT_DYNAMIC segment", ErrBadImage)
	}
	if !span(dyn.Off, dyn.Filesz, len(image)) {
		return nil, fmt.Errorf("%w: PT_DYNAMIC lies outside the image", ErrBadImage)
	}
	tags := map[elf.DynTag]uint64{}
	for b := image[dyn.Off : dyn.Off+dyn.Filesz]; len(b) >= sizeofDyn64; b = b[sizeofDyn64:] {
		tag, val := elf.DynTag(le.Uint64(b)), le.Uint64(b[8:])
		if tag == elf.DT_NULL {
			break
		}
		if _, dup := tags[tag]; !dup {
			tags[tag] = val
		}
	}
	for _, t := range []elf.DynTag{elf.DT_SYMTAB, elf.DT_STRTAB} {
		if _, ok := tags[t]; !ok {
			return nil, fmt.Errorf("%w: PT_DYNAMIC has no %v", ErrBadImage, t)
		}
	}
	if e, ok := tags[elf.DT_SYMENT]; ok && e != sizeofSym64 {
		return nil, fmt.Errorf("%w: DT_SYMENT %d, want %d", ErrBadImage, e, sizeofSym64)
	}
	return tags, nil
}

// parse reads the dynamic symbols of image and its load bias.
func parse(image []byte) ([]Symbol, int64, error) {
	progs, err := header(image)
	if err != nil {
		return nil, 0, err
	}
	bias, err := loadBias(progs)
	if err != nil {
		return nil, 0, err
	}
	tags, err := dynamic(image, progs)
	if err != nil {
		return nil, 0, err
	}

	strOff, err := vaddrOff(image, progs, tags[elf.DT_STRTAB], 1)
	if err != nil {
		return nil, 0, fmt.Errorf("DT_STRTAB: %w", err)
	}
	strtab := image[strOff:]
	if sz, ok := tags[elf.DT_STRSZ]; ok && sz <= uint64(len(strtab)) {
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
		return nil, 0, err
	}
	symOff, err := vaddrOff(image, progs, tags[elf.DT_SYMTAB], nsym*sizeofSym64) // nsym <= maxSyms
	if err != nil {
		return nil, 0, fmt.Errorf("DT_SYMTAB: %w", err)
	}

	// Version names by verdef index (vd_ndx).
	var versions map[uint16]string
	if vd, ok := tags[elf.DT_VERDEF]; ok {
		if versions, err = verdefs(image, progs, vd, tags[elf.DT_VERDEFNUM], str); err != nil {
			return nil, 0, err
		}
	}
	var versym []byte
	if vs, ok := tags[elf.DT_VERSYM]; ok {
		off, err := vaddrOff(image, progs, vs, nsym*2)
		if err != nil {
			return nil, 0, fmt.Errorf("DT_VERSYM: %w", err)
		}
		versym = image[off : off+nsym*2]
	}

	syms := make([]Symbol, 0, nsym)
	for i := uint64(1); i < nsym; i++ { // index 0 is the null symbol
		b := image[symOff+i*sizeofSym64:]
		s := elf.Sym64{Name: le.Uint32(b), Info: b[4], Other: b[5], Shndx: le.Uint16(b[6:]), Value: le.Uint64(b[8:]), Size: le.Uint64(b[16:])}
		name, err := str(s.Name)
		if err != nil {
			return nil, 0, fmt.Errorf("symbol %d: %w", i, err)
		}
		sym := Symbol{
			Name:    name,
			Value:   s.Value,
			Size:    s.Size,
			Func:    elf.ST_TYPE(s.Info) == elf.STT_FUNC,
			Defined: elf.SectionIndex(s.Shndx) != elf.SHN_UNDEF,
		}
		if versym != nil {
			// Index 0 is local, 1 the file itself (global): neither names
			// a version.
			if ndx := le.Uint16(versym[2*i:]) & versymIndex; ndx > 1 {
				v, ok := versions[ndx]
				if !ok {
					return nil, 0, fmt.Errorf("%w: symbol %q has version index %d with no DT_VERDEF entry", ErrBadImage, name, ndx)
				}
				sym.Version = v
			}
		}
		syms = append(syms, sym)
	}
	return syms, bias, nil
}

// maxSyms bounds the symbol count a hash table may claim.
const maxSyms = maxImage / sizeofSym64

// symbolCount is the number of entries in DT_SYMTAB, which the dynamic
// section does not state. DT_HASH (the SysV table: nbucket, nchain,
// buckets, chains) gives it directly as nchain. DT_GNU_HASH (nbuckets,
// symoffset, bloom_size, bloom_shift, the bloom words, the buckets, then one
// chain word per symbol from symoffset on) only implies it: it is one past
// the last symbol of the chain that starts at the highest bucket, the chain
// ending at the first word with its low bit set. (The runtime and
// parse_vdso.c never need the count: they look one name up through the
// hash chains. Image.Symbols lists them all.)
func symbolCount(image []byte, progs []elf.Prog64, tags map[elf.DynTag]uint64) (uint64, error) {
	if h, ok := tags[elf.DT_HASH]; ok {
		off, err := vaddrOff(image, progs, h, 8)
		if err != nil {
			return 0, fmt.Errorf("DT_HASH: %w", err)
		}
		nchain := uint64(le.Uint32(image[off+4:]))
		if nchain > maxSyms {
			return 0, fmt.Errorf("%w: DT_HASH says %d symbols", ErrBadImage, nchain)
		}
		return nchain, nil
	}
	g, ok := tags[elf.DT_GNU_HASH]
	if !ok {
		return 0, fmt.Errorf("%w: neither DT_HASH nor DT_GNU_HASH", ErrBadImage)
	}
	off, err := vaddrOff(image, progs, g, 16)
	if err != nil {
		return 0, fmt.Errorf("DT_GNU_HASH: %w", err)
	}
	nbucket := uint64(le.Uint32(image[off:]))
	symoffset := uint64(le.Uint32(image[off+4:]))
	bloomSize := uint64(le.Uint32(image[off+8:]))
	// Each of these is below 2^32, so the sums and products below stay far
	// from overflow; span checks them against the image.
	buckets := off + 16 + bloomSize*8
	if nbucket > maxSyms || bloomSize > maxSyms || !span(buckets, nbucket*4, len(image)) {
		return 0, fmt.Errorf("%w: DT_GNU_HASH tables lie outside the image", ErrBadImage)
	}
	var last uint64
	for i := range nbucket {
		last = max(last, uint64(le.Uint32(image[buckets+4*i:])))
	}
	if last < symoffset {
		// Every bucket empty: only the symbols below symoffset, which are
		// not in the table.
		return symoffset, nil
	}
	chain := buckets + nbucket*4
	for n := last; ; n++ {
		at := chain + (n-symoffset)*4
		if n >= maxSyms || !span(at, 4, len(image)) {
			return 0, fmt.Errorf("%w: DT_GNU_HASH chain runs off the image", ErrBadImage)
		}
		if le.Uint32(image[at:])&1 != 0 { // the low bit ends a chain
			return n + 1, nil
		}
	}
}

// verdefs walks DT_VERDEF (num entries if DT_VERDEFNUM is given) and
// returns each version's name by index: the first Elf64_Verdaux of a
// Elf64_Verdef names it. The entry flagged VER_FLG_BASE names the file
// itself and is skipped, as parse_vdso.c's vdso_match_version does.
func verdefs(image []byte, progs []elf.Prog64, v, num uint64, str func(uint32) (string, error)) (map[uint16]string, error) {
	out := map[uint16]string{}
	off, err := vaddrOff(image, progs, v, sizeofVerdef)
	if err != nil {
		return nil, fmt.Errorf("DT_VERDEF: %w", err)
	}
	for i := uint64(0); i < 1<<12; i++ {
		if !span(off, sizeofVerdef, len(image)) {
			return nil, fmt.Errorf("%w: DT_VERDEF runs off the image", ErrBadImage)
		}
		b := image[off:]
		version, flags, ndx, cnt := le.Uint16(b), le.Uint16(b[2:]), le.Uint16(b[4:]), le.Uint16(b[6:])
		aux, next := uint64(le.Uint32(b[12:])), uint64(le.Uint32(b[16:])) // vd_hash at 8 is not needed
		if version != 1 {
			return nil, fmt.Errorf("%w: DT_VERDEF entry version %d", ErrBadImage, version)
		}
		if flags&verFlagBase == 0 && cnt > 0 {
			a := off + aux // both < 2^32 + maxImage: no overflow
			if !span(a, sizeofVerdaux, len(image)) {
				return nil, fmt.Errorf("%w: DT_VERDEF aux entry runs off the image", ErrBadImage)
			}
			name, err := str(le.Uint32(image[a:])) // vda_name
			if err != nil {
				return nil, fmt.Errorf("DT_VERDEF: %w", err)
			}
			out[ndx] = name
		}
		if next == 0 || (num > 0 && i+1 >= num) {
			return out, nil
		}
		off += next
	}
	return nil, fmt.Errorf("%w: DT_VERDEF does not end", ErrBadImage)
}
