	.text
start:
	ldr x3, [sp]
	add x19, sp, #8
	add x20, x19, x3, lsl #3
	add x20, x20, #8
	mov x21, #0
	sub sp, sp, #16
loop:	mov x0, #0x4111
	mov x1, #0
	mov x2, #0
	mov x3, #0
	mov x4, #0
	mov x8, #220
	svc #0
	cbz x0, child
	tbnz x0, #63, fail
	mov x1, sp
	mov x2, #0
	mov x3, #0
	mov x8, #260
	svc #0
	cmp x0, #0
	b.le fail
	ldr w1, [sp]
	cbnz w1, fail
	add x21, x21, #1
	tst x21, #15
	b.ne loop
	mov x8, #64
	mov x0, #1
	mov x1, sp
	mov x2, #1
	svc #0
	cmp x0, #1
	b.ne fail
	b loop
child:	adr x0, path
	mov x1, x19
	mov x2, x20
	mov x8, #221
	svc #0
	mov x0, #127
	mov x8, #93
	svc #0
fail:	mov x0, #1
	mov x8, #94
	svc #0
path:	.asciz "/proc/self/fd/3"
