	.text
start:
	mov x1, sp
	sub sp, sp, #64
	stp xzr, xzr, [sp]
	stp xzr, xzr, [sp, #16]
	stp xzr, xzr, [sp, #32]
	stp xzr, xzr, [sp, #48]
	mov w2, #0x7372
	movk w2, #0x7662, lsl #16
	str x2, [sp]
	str x1, [sp, #8]
	ldr x2, [x1]
	add x19, x1, #8
	add x1, x1, x2, lsl #3
	add x1, x1, #16
	mov x20, x1
	mov x21, #0
env:	ldr x2, [x1], #8
	cbnz x2, env
aux:	ldp x2, x3, [x1], #16
	cbz x2, done
	cmp x2, #33
	b.ne 1f
	str x3, [sp, #16]
1:	cmp x2, #3
	b.ne 2f
	str x3, [sp, #24]
2:	cmp x2, #7
	b.ne 3f
	str x3, [sp, #32]
3:	cmp x2, #31
	b.ne 4f
	str x3, [sp, #40]
4:	cmp x2, #25
	b.ne 5f
	str x3, [sp, #48]
5:	b aux
done:	mov x8, #214
	mov x0, #0
	svc #0
	str x0, [sp, #56]
	mov x8, #63
	mov x0, #0
	sub x1, sp, #16
	mov x2, #1
	svc #0
	cmp x0, #1
	b.ne write
	mov w2, #1
	strb w2, [sp, #4]
	mov x21, #1
write:	mov x8, #64
	mov x0, #1
	mov x1, sp
	mov x2, #64
	svc #0
	cmp x0, #64
	b.ne fail
	cbz x21, next
	mov x8, #172
	svc #0
	mov x1, #19
	mov x8, #129
	svc #0
next:
	mov x0, #0
	b exit
fail:	mov x0, #1
exit:	mov x8, #94
	svc #0
