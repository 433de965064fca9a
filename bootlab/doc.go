// Package bootlab boots kernels under QEMU with vbench as /init, one boot per
// kernel and vsyscall= mode, and brings each run's result back.
//
// The host side (BuildInitramfs, ChooseAccel, Boot) writes an initramfs
// (cpio "newc", the format the kernel unpacks in init/initramfs.c) holding
// one static executable as /init, decides once whether KVM really runs a
// guest here, starts qemu-system-x86_64 with the kernel, the initramfs and a
// command line of "console=ttyS0 vsyscall=MODE panic=-1 quiet", and reads the
// serial console until QEMU exits or the timeout kills it. The guest side
// (IsGuest, RunGuest) mounts the pseudo file systems, runs the study it is
// given, writes the run's JSON on the console inside a checksummed frame,
// and powers off. The exported names are what cmd/vbench uses; the framing,
// the cpio writer and the guest's setup stay inside.
//
// Assumptions: an x86-64 host with qemu-system-x86_64 on PATH (or named),
// a bzImage kernel with an 8250 serial console, devtmpfs, tmpfs and the
// vsyscall= parameter built in (Debian's cloud kernels qualify), and an init
// binary that needs no dynamic loader. KVM is used only when a test boot
// prints under it (ChooseAccel); otherwise QEMU emulates the CPU (TCG), and
// timings taken in such a guest are not real-hardware numbers.
package bootlab
