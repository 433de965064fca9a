// Package proc reads the files under /proc that vbench needs: the memory map
// of a process (maps.go), its auxiliary vector (auxv.go), its stat line
// (stat.go), the CPU description (cpuinfo.go) and the kernel command line
// (cmdline.go).
//
// One file per /proc file, in the manner of prometheus/procfs. Each parser
// takes an io.Reader or a byte slice so it can be tested on the fixtures in
// testdata/, and each Read function opens the live file. Errors that callers
// may want to tell apart are sentinels wrapped with %w.
//
// It assumes Linux and the text formats documented in proc(5).
package proc
