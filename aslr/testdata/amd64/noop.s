# The listing of noopChainCode() in target_amd64.go, constants written out.
# noop.hex is what 'as -o noop.o noop.s && objcopy -O binary -j .text noop.o noop.bin && xxd -p noop.bin' made of it
# (GNU as 2.40); target_amd64_test.go compares the Go code with it byte for byte.
.intel_syntax noprefix
.text
start:
	mov eax, 1
	mov edi, 1
	mov rsi, rsp
	mov edx, 8
	syscall
	cmp rax, 8
	jne fail
	mov rax, [rsp]
	lea rsi, [rsp+8]
	lea rdx, [rsp+rax*8+16]
	mov eax, 59
	lea rdi, [rip+path]
	syscall
	mov edi, 2
	jmp exit
fail:	mov edi, 1
exit:	mov eax, 231
	syscall
path:	.asciz "/proc/self/fd/3"
