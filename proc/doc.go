// Package proc reads the files under /proc that vbench needs: the memory map
// of a process (maps.go), its auxiliary vector (auxv.go), its stat line
// (stat.go), the CPU description (cpuinfo.go) and the kernel command line
// (cmdline.go).
//
// One file per /proc file, in the manner of prometheus/procfs. Each parser
// takes an io.Reader or a byte slice so it can be tested on the fixtures in
// testdata/ and fuzzed. The readers are methods of FS, a proc file system
// mounted at FS.Root: Live is the running machine's /proc, and a test points
// Root at a fixture tree; ReadMaps and the other package-level functions are
// shorthands for Live. Errors that callers may want to tell apart are
// sentinels wrapped with %w (ErrMalformedMaps, ErrMalformedStat,
// ErrMalformedAuxv, ErrMalformedCPUInfo); errors opening a file are the
// *fs.PathError of package os.
//
// It assumes Linux and the text formats documented in proc(5).
package proc
