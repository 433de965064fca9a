// Package bootlab boots kernels under QEMU with vbench as /init, one boot per
// kernel and vsyscall= mode, and brings each run's result back.
//
// The host side (BuildInitramfs, ChooseAccel, Boot) writes an initramfs
// (cpio "newc", the format the kernel unpacks in init/initramfs.c) holding
// one static executable as /init, decides once whether KVM really runs a
// guest here, starts QEMU for the kernel's architecture (arch.go:
// qemu-system-x86_64, or qemu-system-aarch64 -M virt for an arm64 Image)
// with the kernel, the initramfs and a command line of "console=ttyS0
// vsyscall=MODE panic=-1 quiet" (console=ttyAMA0 and no vsyscall= on
// arm64), and reads the serial console until QEMU exits or the timeout
// kills it. The guest side
// (IsGuest, RunGuest) mounts the pseudo file systems, runs the study it is
// given, writes the run's JSON on the console inside a checksummed frame,
// and powers off. The exported names are what cmd/vbench uses; the framing,
// the cpio writer and the guest's setup stay inside.
//
// Assumptions: the QEMU of the guest's architecture on PATH (or named); an
// x86-64 bzImage with an 8250 serial console and the vsyscall= parameter,
// or an arm64 Image with a PL011 console; devtmpfs and tmpfs built in
// (Debian's cloud kernels qualify); an init binary that needs no dynamic
// loader, built for the guest's architecture. KVM is used only when a test boot
// prints under it (ChooseAccel); otherwise QEMU emulates the CPU (TCG), and
// timings taken in such a guest are not real-hardware numbers.
package bootlab
