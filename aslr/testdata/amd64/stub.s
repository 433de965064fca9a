# The listing of vforkCode() in target_amd64.go, constants written out.
# stub.hex is what 'as -o stub.o stub.s && objcopy -O binary -j .text stub.o stub.bin && xxd -p stub.bin' made of it
# (GNU as 2.40); target_amd64_test.go compares the Go code with it byte for byte.
.intel_syntax noprefix
.text
start:
	mov rax, [rsp]
	lea r12, [rsp+8]
	lea r13, [rsp+rax*8+16]
	xor r14d, r14d
	sub rsp, 16
loop:
	lea rdi, [rip+path]
	mov rsi, r12
	mov rdx, r13
	mov eax, 58
	syscall
	test eax, eax
	jz child
	js fail
	mov edi, eax
	mov rsi, rsp
	xor edx, edx
	xor r10d, r10d
	mov eax, 61
	syscall
	test rax, rax
	jle fail
	cmp dword ptr [rsp], 0
	jne fail
	inc r14d
	test r14d, 15
	jnz loop
	mov eax, 1
	mov edi, 1
	mov rsi, rsp
	mov edx, 1
	syscall
	cmp rax, 1
	jne fail
	jmp loop
child:
	mov eax, 59
	syscall
	mov edi, 127
	mov eax, 60
	syscall
fail:	mov edi, 1
	mov eax, 231
	syscall
path:	.asciz "/proc/self/fd/3"
