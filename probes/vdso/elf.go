package vdso

import "debug/elf"

// ELF structures the program-header parser reads that debug/elf does not
// define. The layouts are those of include/uapi/linux/elf.h and the symbol
// versioning spec (LSB Core, "Symbol Versioning"); the ELF header, program
// headers, dynamic entries and symbols use debug/elf's Header64, Prog64,
// Dyn64 and Sym64.

// verdef64 is Elf64_Verdef: one entry of DT_VERDEF.
type verdef64 struct {
	Version uint16 // vd_version, 1
	Flags   uint16 // vd_flags, verFlagBase for the file's own name
	Ndx     uint16 // vd_ndx, the index versym entries refer to
	Cnt     uint16 // vd_cnt, number of verdaux entries
	Hash    uint32 // vd_hash, ELF hash of the version name
	Aux     uint32 // vd_aux, offset of the first verdaux from this entry
	Next    uint32 // vd_next, offset of the next verdef, 0 at the end
}

// verdaux64 is Elf64_Verdaux; the first one names the version.
type verdaux64 struct {
	Name uint32 // vda_name, offset in DT_STRTAB
	Next uint32
}

const (
	verFlagBase  = 0x1    // VER_FLG_BASE: the entry names the file, not a version
	versymIndex  = 0x7fff // low bits of a versym entry: the verdef index
	versymHidden = 0x8000

	sizeofHeader64 = 64
	sizeofProg64   = 56
	sizeofSym64    = 24
	sizeofDyn64    = 16
	sizeofVerdef   = 20
	sizeofVerdaux  = 8
)

// Dynamic tags the fallback parser needs (debug/elf names them too; kept
// here as one list so the parser's inputs are visible in one place).
const (
	dtNull    = elf.DT_NULL
	dtHash    = elf.DT_HASH
	dtGNUHash = elf.DT_GNU_HASH
	dtStrtab  = elf.DT_STRTAB
	dtStrsz   = elf.DT_STRSZ
	dtSymtab  = elf.DT_SYMTAB
	dtSyment  = elf.DT_SYMENT
	dtVersym  = elf.DT_VERSYM
	dtVerdef  = elf.DT_VERDEF
	dtVerdefN = elf.DT_VERDEFNUM
)
