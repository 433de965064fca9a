# The listing of reportCode(false) in target_amd64.go, constants written out.
# report_spawn.hex is what 'as -o report_spawn.o report_spawn.s && objcopy -O binary -j .text report_spawn.o report_spawn.bin && xxd -p report_spawn.bin' made of it
# (GNU as 2.40); target_amd64_test.go compares the Go code with it byte for byte.
.intel_syntax noprefix
.text
start:
	mov rsi, rsp
	xor eax, eax
	push rax
	push rax
	push rax
	push rax
	push rax
	push rax
	push rax
	push rax
	mov dword ptr [rsp], 0x76627372
	mov [rsp+8], rsi
	mov rax, [rsi]
	lea r12, [rsi+8]
	lea rsi, [rsi+rax*8+16]
	mov r13, rsi
	xor r14d, r14d
env:	lodsq
	test rax, rax
	jnz env
aux:	lodsq
	mov rdx, rax
	lodsq
	test rdx, rdx
	jz done
	cmp rdx, 33
	jne 1f
	mov [rsp+16], rax
1:	cmp rdx, 3
	jne 2f
	mov [rsp+24], rax
2:	cmp rdx, 7
	jne 3f
	mov [rsp+32], rax
3:	cmp rdx, 31
	jne 4f
	mov [rsp+40], rax
4:	cmp rdx, 25
	jne aux
	mov [rsp+48], rax
	jmp aux
done:	mov eax, 12
	xor edi, edi
	syscall
	mov [rsp+56], rax
	mov eax, 0
	xor edi, edi
	lea rsi, [rsp-8]
	mov edx, 1
	syscall
	cmp rax, 1
	jne write
	mov byte ptr [rsp+4], 1
	inc r14d
write:	mov eax, 1
	mov edi, 1
	mov rsi, rsp
	mov edx, 64
	syscall
	cmp rax, 64
	jne fail
	test r14d, r14d
	jz next
	mov eax, 39
	syscall
	mov edi, eax
	mov eax, 62
	mov esi, 19
	syscall
next:
	xor edi, edi
	jmp exit
fail:	mov edi, 1
exit:	mov eax, 231
	syscall
