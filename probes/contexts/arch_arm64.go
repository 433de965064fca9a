package contexts

import "golang.org/x/sys/unix"

// auditArch is the seccomp_data.arch of native system calls
// (include/uapi/linux/audit.h), and cacheArch the name
// /proc/PID/seccomp_cache gives them (SECCOMP_ARCH_NATIVE_NAME,
// arch/arm64/include/asm/seccomp.h).
const (
	auditArch = unix.AUDIT_ARCH_AARCH64
	cacheArch = "aarch64"
)
