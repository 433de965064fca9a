// Package bootlab boots kernels under QEMU with vbench as /init, one boot per
// vsyscall= mode, and brings each run's result back.
package bootlab
