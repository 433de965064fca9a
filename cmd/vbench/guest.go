package main

// guestMain runs vbench as /init inside a `vbench bootmodes` guest and
// reports whether it did. Owned by the bootmodes work (issue 5); until then
// vbench is never PID 1.
func guestMain() bool { return false }
