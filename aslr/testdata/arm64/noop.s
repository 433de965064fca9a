	.text
start:
	mov x8, #64
	mov x0, #1
	mov x1, sp
	mov x2, #8
	svc #0
	cmp x0, #8
	b.ne fail
	ldr x3, [sp]
	add x1, sp, #8
	add x2, x1, x3, lsl #3
	add x2, x2, #8
	adr x0, path
	mov x8, #221
	svc #0
	mov x0, #2
	b exit
fail:	mov x0, #1
exit:	mov x8, #94
	svc #0
path:	.asciz "/proc/self/fd/3"
