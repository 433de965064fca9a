// Package bootlab boots kernels under QEMU with vbench as /init, one boot per
// vsyscall= mode, and brings each run's result back.
//
// The host side (Boot) writes an initramfs (cpio "newc", the format the
// kernel unpacks in init/initramfs.c) holding one static executable as /init,
// starts qemu-system-x86_64 with the kernel, the initramfs and a command line
// of "console=ttyS0 vsyscall=MODE panic=-1 quiet", and reads the serial
// console until QEMU exits or the timeout kills it. The guest side
// (GuestSetup, WriteFrame, PowerOff) mounts the pseudo file systems, writes
// the run's JSON on the console inside a checksummed frame, and powers off.
//
// Assumptions: an x86-64 host with qemu-system-x86_64 on PATH (or named),
// a bzImage kernel with an 8250 serial console, devtmpfs, tmpfs and the
// vsyscall= parameter built in (Debian's cloud kernels qualify), and an init
// binary that needs no dynamic loader. KVM is used only when a test boot
// prints under it (ChooseAccel); otherwise QEMU emulates the CPU (TCG), and
// timings taken in such a guest are not real-hardware numbers.
package bootlab
