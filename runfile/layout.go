package runfile

// Mapping is one of the kernel's special mappings as a guest saw it in its
// own /proc/self/maps: "[vvar]", "[vvar_vclock]", "[vdso]", "[vsyscall]".
// Boot.Layout lists them in address order. Since Linux 6.13 the vDSO data
// is split into [vvar] and [vvar_vclock] (lib/vdso/datastore.c); before,
// one [vvar] held it.
type Mapping struct {
	Name  string `json:"name"`  // the bracketed name, e.g. "[vvar_vclock]"
	Start uint64 `json:"start"` // first address
	Size  uint64 `json:"size"`  // bytes
	Perms string `json:"perms"` // e.g. "r--p", "r-xp"
}
