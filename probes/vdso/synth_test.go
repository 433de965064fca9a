package vdso

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
)

// A builder of small vDSO-like shared objects, laid out as the kernel's
// are: one PT_LOAD spanning the file from offset 0, a PT_DYNAMIC inside
// it, no section headers. It lets the tests reach what the one real
// fixture cannot: a DT_GNU_HASH without DT_HASH (the linker's default
// --hash-style=gnu), symbols below the GNU table's symoffset, no symbol
// versions at all, and a nonzero link address.

type synSym struct {
	name    string
	version string // "" : global, no version
	object  bool   // STT_OBJECT rather than STT_FUNC
	undef   bool   // SHN_UNDEF
}

type synImage struct {
	sysv, gnu bool   // which hash tables
	nbucket   uint32 // GNU buckets (default 3)
	symoffset int    // GNU: symbols 1..symoffset-1 are not hashed (default 1)
	noVersym  bool   // no DT_VERSYM / DT_VERDEF
	linkBase  uint64 // p_vaddr of file offset 0
	syms      []synSym
}

// sysvHash is the ELF hash of the System V ABI (elf_hash in parse_vdso.c).
func sysvHash(s string) uint32 {
	var h uint32
	for _, c := range []byte(s) {
		h = h<<4 + uint32(c)
		if g := h & 0xf0000000; g != 0 {
			h ^= g >> 24
		}
		h &^= 0xf0000000
	}
	return h
}

// gnuHash is DT_GNU_HASH's hash (dl_new_hash: h*33 + c from 5381).
func gnuHash(s string) uint32 {
	h := uint32(5381)
	for _, c := range []byte(s) {
		h = h*33 + uint32(c)
	}
	return h
}

// textValue is where symbol i (1-based) is said to be: 16 bytes apart from
// offset 0x800 of the image, which build makes that long.
func (o synImage) textValue(i int) uint64 { return o.linkBase + 0x800 + 16*uint64(i) }

// build returns the image and the symbols in symbol-table order (index 1
// on): build sorts the hashed ones by GNU bucket, as a linker does.
func (o synImage) build() ([]byte, []synSym) {
	if o.nbucket == 0 {
		o.nbucket = 3
	}
	if o.symoffset == 0 {
		o.symoffset = 1
	}
	syms := slices.Clone(o.syms)
	if o.gnu {
		hashed := syms[o.symoffset-1:]
		slices.SortStableFunc(hashed, func(a, b synSym) int {
			return int(gnuHash(a.name)%o.nbucket) - int(gnuHash(b.name)%o.nbucket)
		})
	}
	nsym := 1 + len(syms)
	le := binary.LittleEndian
	var img []byte
	align := func() {
		for len(img)%8 != 0 {
			img = append(img, 0)
		}
	}
	u16 := func(v uint16) { img = le.AppendUint16(img, v) }
	u32 := func(v uint32) { img = le.AppendUint32(img, v) }
	u64 := func(v uint64) { img = le.AppendUint64(img, v) }

	// String table, built first so offsets are known.
	strtab := []byte{0}
	strOff := map[string]uint32{}
	addStr := func(s string) uint32 {
		if off, ok := strOff[s]; ok {
			return off
		}
		strOff[s] = uint32(len(strtab))
		strtab = append(append(strtab, s...), 0)
		return strOff[s]
	}
	addStr("linux-vdso.so.1")
	versions := []string{}
	for _, s := range syms {
		addStr(s.name)
		if s.version != "" && !slices.Contains(versions, s.version) {
			versions = append(versions, s.version)
			addStr(s.version)
		}
	}

	// ELF header and two program headers, filled in at the end.
	img = make([]byte, sizeofHeader64+2*sizeofProg64)
	off := map[string]int{}
	if o.sysv {
		align()
		off["hash"] = len(img)
		u32(1)            // nbucket
		u32(uint32(nsym)) // nchain
		chain := make([]uint32, nsym)
		var bucket uint32
		for i := nsym - 1; i >= 1; i-- { // one bucket: a chain through every symbol
			chain[i] = bucket
			bucket = uint32(i)
		}
		u32(bucket)
		for _, c := range chain {
			u32(c)
		}
	}
	if o.gnu {
		align()
		off["gnu"] = len(img)
		u32(o.nbucket)
		u32(uint32(o.symoffset))
		u32(2) // bloom words, all ones: every name "may be present"
		u32(6) // bloom shift
		u64(^uint64(0))
		u64(^uint64(0))
		buckets := make([]uint32, o.nbucket)
		chain := make([]uint32, nsym-o.symoffset)
		for i := o.symoffset; i < nsym; i++ {
			h := gnuHash(syms[i-1].name)
			if b := h % o.nbucket; buckets[b] == 0 {
				buckets[b] = uint32(i)
			}
			chain[i-o.symoffset] = h &^ 1
			if i == nsym-1 || gnuHash(syms[i].name)%o.nbucket != h%o.nbucket {
				chain[i-o.symoffset] |= 1 // last of its bucket
			}
		}
		for _, b := range buckets {
			u32(b)
		}
		for _, c := range chain {
			u32(c)
		}
	}
	align()
	off["sym"] = len(img)
	img = append(img, make([]byte, sizeofSym64)...) // the null symbol
	for i, s := range syms {
		info := byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_FUNC)
		if s.object {
			info = byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_OBJECT)
		}
		shndx := uint16(7)
		value := o.textValue(i + 1)
		if s.undef {
			shndx, value = uint16(elf.SHN_UNDEF), 0
		}
		u32(strOff[s.name])
		img = append(img, info, 0)
		u16(shndx)
		u64(value)
		u64(16)
	}
	off["str"] = len(img)
	img = append(img, strtab...)
	if !o.noVersym {
		align()
		off["versym"] = len(img)
		u16(0)
		for _, s := range syms {
			ndx := uint16(1)
			if s.version != "" {
				ndx = uint16(2 + slices.Index(versions, s.version))
			}
			u16(ndx)
		}
		align()
		off["verdef"] = len(img)
		names := append([]string{"linux-vdso.so.1"}, versions...)
		for i, n := range names {
			flags, next := uint16(0), uint32(sizeofVerdef+sizeofVerdaux)
			if i == 0 {
				flags = verFlagBase
			}
			if i == len(names)-1 {
				next = 0
			}
			u16(1)             // vd_version
			u16(flags)         // vd_flags
			u16(uint16(i + 1)) // vd_ndx
			u16(1)             // vd_cnt
			u32(sysvHash(n))   // vd_hash
			u32(sizeofVerdef)  // vd_aux
			u32(next)          // vd_next
			u32(strOff[n])     // vda_name
			u32(0)             // vda_next
		}
	}
	align()
	off["dyn"] = len(img)
	va := func(name string) uint64 { return o.linkBase + uint64(off[name]) }
	dyn := func(tag elf.DynTag, v uint64) { u64(uint64(tag)); u64(v) }
	if o.sysv {
		dyn(elf.DT_HASH, va("hash"))
	}
	if o.gnu {
		dyn(elf.DT_GNU_HASH, va("gnu"))
	}
	dyn(elf.DT_STRTAB, va("str"))
	dyn(elf.DT_SYMTAB, va("sym"))
	dyn(elf.DT_STRSZ, uint64(len(strtab)))
	dyn(elf.DT_SYMENT, sizeofSym64)
	if !o.noVersym {
		dyn(elf.DT_VERSYM, va("versym"))
		dyn(elf.DT_VERDEF, va("verdef"))
		dyn(elf.DT_VERDEFNUM, uint64(1+len(versions)))
	}
	dyn(elf.DT_NULL, 0)
	dynEnd := len(img)
	for len(img) < 0x800+16*(nsym+1) {
		img = append(img, 0xcc) // "text"
	}

	copy(img, elf.ELFMAG)
	img[elf.EI_CLASS], img[elf.EI_DATA], img[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	le.PutUint16(img[0x10:], uint16(elf.ET_DYN))
	le.PutUint16(img[0x12:], uint16(elf.EM_X86_64))
	le.PutUint32(img[0x14:], 1)
	le.PutUint64(img[0x20:], sizeofHeader64) // e_phoff
	le.PutUint16(img[0x34:], sizeofHeader64) // e_ehsize
	le.PutUint16(img[0x36:], sizeofProg64)   // e_phentsize
	le.PutUint16(img[0x38:], 2)              // e_phnum
	ph := func(i int, typ elf.ProgType, flags elf.ProgFlag, o, vaddr, size uint64) {
		b := img[sizeofHeader64+i*sizeofProg64:]
		le.PutUint32(b, uint32(typ))
		le.PutUint32(b[4:], uint32(flags))
		le.PutUint64(b[8:], o)
		le.PutUint64(b[16:], vaddr)
		le.PutUint64(b[24:], vaddr)
		le.PutUint64(b[32:], size)
		le.PutUint64(b[40:], size)
		le.PutUint64(b[48:], 8)
	}
	ph(0, elf.PT_LOAD, elf.PF_R|elf.PF_X, 0, o.linkBase, uint64(len(img)))
	ph(1, elf.PT_DYNAMIC, elf.PF_R, uint64(off["dyn"]), va("dyn"), uint64(dynEnd-off["dyn"]))
	return img, syms
}

// vdsoSyms are the names an x86-64 vDSO exports, each with version
// LINUX_2.6, and the version's own ABS symbol (an object, not a function).
func vdsoSyms(version string) []synSym {
	var out []synSym
	for _, n := range Exported {
		out = append(out, synSym{name: n, version: version}, synSym{name: strings.TrimPrefix(n, "__vdso_"), version: version})
	}
	return append(out, synSym{name: "LINUX_2.6", version: version, object: true})
}

// synSeeds are the synthetic images of the tests, also fuzzing seeds.
func synSeeds() map[string]synImage {
	return map[string]synImage{
		"SysV hash only":        {sysv: true, syms: vdsoSyms(Version)},
		"GNU hash only":         {gnu: true, syms: vdsoSyms(Version)},
		"both hash tables":      {sysv: true, gnu: true, syms: vdsoSyms(Version)},
		"GNU, one bucket":       {gnu: true, nbucket: 1, syms: vdsoSyms(Version)},
		"GNU, many buckets":     {gnu: true, nbucket: 17, syms: vdsoSyms(Version)},
		"GNU, unhashed imports": {gnu: true, symoffset: 3, syms: append([]synSym{{name: "imported", undef: true}, {name: "__vdso_time", undef: true}}, vdsoSyms(Version)...)},
		"unversioned, SysV":     {sysv: true, noVersym: true, syms: vdsoSyms("")},
		"unversioned, GNU":      {gnu: true, noVersym: true, syms: vdsoSyms("")},
		"linked at 0x10000":     {gnu: true, linkBase: 0x10000, syms: vdsoSyms(Version)},
	}
}

// TestSynthetic parses every synthetic image: all its symbols, in table
// order, with their versions; the exports found by Lookup at base + value
// + load bias; the undefined imports not.
func TestSynthetic(t *testing.T) {
	const base = 0x7f0000000000
	for name, o := range synSeeds() {
		b, syms := o.build()
		im, err := Parse(b, base)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(im.syms) != len(syms) {
			t.Errorf("%s: %d symbols, want %d", name, len(im.syms), len(syms))
			continue
		}
		for i, s := range im.syms {
			w := syms[i]
			if s.Name != w.name || s.Version != w.version || s.Func == w.object || s.Defined == w.undef {
				t.Errorf("%s: symbol %d = %+v, want %+v", name, i+1, s, w)
			}
			// p_vaddr = linkBase at offset 0: the bias is -linkBase.
			if !w.undef && s.Addr != uintptr(base+o.textValue(i+1)-o.linkBase) {
				t.Errorf("%s: %s at %#x", name, s.Name, s.Addr)
			}
		}
		for _, n := range Exported {
			addr, ok := im.Lookup(n)
			if !ok || addr < base || addr >= base+uintptr(len(b)) {
				t.Errorf("%s: Lookup(%s) = %#x, %v", name, n, addr, ok)
			}
		}
		if _, ok := im.Lookup("imported"); ok {
			t.Errorf("%s: found an undefined symbol", name)
		}
		if _, ok := im.Lookup(Version); ok {
			t.Errorf("%s: found the version's object symbol", name)
		}
	}
}

// TestSyntheticHashTablesAgree: with both tables, DT_HASH's nchain and the
// count walked from DT_GNU_HASH's chains are the same.
func TestSyntheticHashTablesAgree(t *testing.T) {
	for _, nbucket := range []uint32{1, 2, 3, 5, 17, 64} {
		o := synImage{sysv: true, gnu: true, nbucket: nbucket, syms: vdsoSyms(Version)}
		b, syms := o.build()
		progs, err := header(b)
		if err != nil {
			t.Fatal(err)
		}
		tags, err := dynamic(b, progs)
		if err != nil {
			t.Fatal(err)
		}
		sysv, err := symbolCount(b, progs, tags)
		if err != nil {
			t.Fatal(err)
		}
		delete(tags, elf.DT_HASH)
		gnu, err := symbolCount(b, progs, tags)
		if err != nil || sysv != gnu || sysv != uint64(1+len(syms)) {
			t.Errorf("%d buckets: DT_HASH %d, DT_GNU_HASH %d (%v), want %d", nbucket, sysv, gnu, err, 1+len(syms))
		}
	}
	// Every bucket empty: only the unhashed symbols below symoffset.
	o := synImage{gnu: true, symoffset: 3, syms: []synSym{{name: "a", undef: true}, {name: "b", undef: true}}}
	b, _ := o.build()
	if im, err := Parse(b, 0); err != nil || len(im.syms) != 2 {
		t.Errorf("empty GNU table: %v, %v", im, err)
	}
}

// TestLookupVersions: a symbol of another version is not LINUX_2.6's; an
// image with no symbol versions at all is matched by name, as the Go runtime
// (runtime/vdso_linux.go: no DT_VERSYM, any version) and parse_vdso.c accept
// it; in a versioned image a version-less symbol does not match.
func TestLookupVersions(t *testing.T) {
	other, _ := synImage{gnu: true, syms: vdsoSyms("LINUX_9.9")}.build()
	im, err := Parse(other, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := im.Lookup(ClockGettime); ok {
		t.Error("found a LINUX_9.9 symbol as LINUX_2.6")
	}
	mixed, _ := synImage{gnu: true, syms: append([]synSym{{name: "x", version: Version}}, vdsoSyms("")...)}.build()
	if im, err = Parse(mixed, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := im.Lookup(ClockGettime); ok {
		t.Error("a version-less symbol matched in a versioned image")
	}
	bare, _ := synImage{sysv: true, noVersym: true, syms: vdsoSyms("")}.build()
	if im, err = Parse(bare, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := im.Lookup(ClockGettime); !ok {
		t.Error("unversioned image: not found by name")
	}
}

// TestSyntheticMalformed breaks one field of a synthetic image at a time.
func TestSyntheticMalformed(t *testing.T) {
	good := synImage{gnu: true, syms: vdsoSyms(Version)}
	b, _ := good.build()
	le := binary.LittleEndian
	// tagVal returns the image offset of a dynamic tag's value.
	tagVal := func(img []byte, tag elf.DynTag) uint64 {
		for o := le.Uint64(img[64+56+8:]); ; o += sizeofDyn64 { // PT_DYNAMIC's p_offset

			if elf.DynTag(le.Uint64(img[o:])) == tag {
				return o + 8
			}
			if le.Uint64(img[o:]) == 0 {
				t.Fatalf("no %v", tag)
			}
		}
	}
	mutate := func(f func(img []byte)) []byte {
		img := append([]byte(nil), b...)
		f(img)
		return img
	}
	gnuOff := func(img []byte) uint64 { return le.Uint64(img[tagVal(img, elf.DT_GNU_HASH):]) }
	sysvImg, _ := synImage{sysv: true, syms: vdsoSyms(Version)}.build()
	for name, img := range map[string][]byte{
		"no hash table": mutate(func(img []byte) { le.PutUint64(img[tagVal(img, elf.DT_GNU_HASH)-8:], uint64(elf.DT_DEBUG)) }),
		"no DT_SYMTAB":  mutate(func(img []byte) { le.PutUint64(img[tagVal(img, elf.DT_SYMTAB)-8:], uint64(elf.DT_DEBUG)) }),
		"DT_SYMENT 16":  mutate(func(img []byte) { le.PutUint64(img[tagVal(img, elf.DT_SYMENT):], 16) }),
		"DT_STRTAB out": mutate(func(img []byte) { le.PutUint64(img[tagVal(img, elf.DT_STRTAB):], 1<<40) }),
		"DT_STRSZ 1": mutate(func(img []byte) { // every name runs past the table
			le.PutUint64(img[tagVal(img, elf.DT_STRSZ):], 1)
		}),
		"GNU chain never ends": mutate(func(img []byte) {
			g := gnuOff(img)
			nb, bloom := uint64(le.Uint32(img[g:])), uint64(le.Uint32(img[g+8:]))
			for c := g + 16 + bloom*8 + nb*4; c+4 <= uint64(len(img)); c += 4 {
				img[c] &^= 1
			}
		}),
		"GNU buckets off the image": mutate(func(img []byte) { le.PutUint32(img[gnuOff(img):], 1<<20) }),
		"GNU bloom off the image":   mutate(func(img []byte) { le.PutUint32(img[gnuOff(img)+8:], 1<<19) }),
		"DT_GNU_HASH out":           mutate(func(img []byte) { le.PutUint64(img[tagVal(img, elf.DT_GNU_HASH):], 1<<40) }),
		"DT_VERSYM out":             mutate(func(img []byte) { le.PutUint64(img[tagVal(img, elf.DT_VERSYM):], uint64(len(img))-4) }),
		"DT_VERDEF out":             mutate(func(img []byte) { le.PutUint64(img[tagVal(img, elf.DT_VERDEF):], 1<<40) }),
		"verdef version 2":          mutate(func(img []byte) { le.PutUint16(img[le.Uint64(img[tagVal(img, elf.DT_VERDEF):]):], 2) }),
		"verdaux off the image": mutate(func(img []byte) {
			vd := le.Uint64(img[tagVal(img, elf.DT_VERDEF):]) + sizeofVerdef + sizeofVerdaux // the second, LINUX_2.6
			le.PutUint32(img[vd+12:], 1<<30)
		}),
		"verdef chain off the image": mutate(func(img []byte) {
			le.PutUint64(img[tagVal(img, elf.DT_VERDEFNUM):], 0)
			vd := le.Uint64(img[tagVal(img, elf.DT_VERDEF):]) + sizeofVerdef + sizeofVerdaux
			le.PutUint32(img[vd+16:], 1<<20)
		}),
		"version index without verdef": mutate(func(img []byte) {
			vs := le.Uint64(img[tagVal(img, elf.DT_VERSYM):])
			le.PutUint16(img[vs+2:], 9)
		}),
		"DT_HASH nchain huge": func() []byte {
			img := append([]byte(nil), sysvImg...)
			h := le.Uint64(img[tagVal(img, elf.DT_HASH):])
			le.PutUint32(img[h+4:], 1<<30)
			return img
		}(),
		"DT_HASH out": func() []byte {
			img := append([]byte(nil), sysvImg...)
			le.PutUint64(img[tagVal(img, elf.DT_HASH):], 1<<40)
			return img
		}(),
		"no PT_DYNAMIC":  mutate(func(img []byte) { le.PutUint32(img[64+56:], uint32(elf.PT_NOTE)) }),
		"PT_DYNAMIC out": mutate(func(img []byte) { le.PutUint64(img[64+56+32:], 1<<40) }),
		"no PT_LOAD":     mutate(func(img []byte) { le.PutUint32(img[64:], uint32(elf.PT_NOTE)) }),
	} {
		_, err := Parse(img, 0)
		if !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: err = %v, want ErrBadImage", name, err)
		}
	}
}
