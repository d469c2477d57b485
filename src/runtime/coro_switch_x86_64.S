/*
 * acrawl's context switch for x86-64 (System V ABI). See coro.h and
 * docs/internals/coroutines.md.
 *
 * A suspended context is a 64-byte frame on its own stack; its address is the
 * context's saved sp:
 *
 *   sp+0x00  MXCSR (4 bytes), x87 control word (2 bytes), 2 unused
 *   sp+0x08  r12
 *   sp+0x10  r13
 *   sp+0x18  r14
 *   sp+0x20  r15
 *   sp+0x28  rbx
 *   sp+0x30  rbp
 *   sp+0x38  where to resume (the return address pushed by the call)
 *
 * Only the callee-saved state is kept: the switch is an ordinary call for the
 * C code around it, which has already spilled whatever else it needs. MXCSR
 * and the x87 control word are callee-saved too (their control bits), so a
 * coroutine that changes the rounding mode does not change it for others.
 *
 * MXCSR and the control word are reloaded every time: skipping the loads when
 * they hold the same values (a compare and a branch) was slower than loading.
 *
 * The switch resumes with an indirect jmp, not ret: a ret would go somewhere
 * else than the return-stack predictor expects on every switch, and each
 * mispredicted return costs more than the whole switch (bench/bench_switch.c
 * measures the switch).
 */

	.text

/*
 * void ac__coro_switch(void **save_sp, void *load_sp)
 * Save the running context's frame, store its address in *save_sp, and resume
 * the context whose frame is at load_sp.
 */
	.globl	ac__coro_switch
	.hidden	ac__coro_switch
	.type	ac__coro_switch, @function
	.p2align 4
ac__coro_switch:
	.cfi_startproc
	leaq	-0x38(%rsp), %rsp
	.cfi_adjust_cfa_offset 0x38
	stmxcsr	0x00(%rsp)
	fnstcw	0x04(%rsp)
	movq	%r12, 0x08(%rsp)
	movq	%r13, 0x10(%rsp)
	movq	%r14, 0x18(%rsp)
	movq	%r15, 0x20(%rsp)
	movq	%rbx, 0x28(%rsp)
	movq	%rbp, 0x30(%rsp)
	movq	%rsp, (%rdi)

	/* Both frames have the same layout, so the CFI above stays true. */
	movq	%rsi, %rsp
	movq	0x38(%rsp), %rax	/* load the target early for the jmp */
	ldmxcsr	0x00(%rsp)
	fldcw	0x04(%rsp)
	movq	0x08(%rsp), %r12
	movq	0x10(%rsp), %r13
	movq	0x18(%rsp), %r14
	movq	0x20(%rsp), %r15
	movq	0x28(%rsp), %rbx
	movq	0x30(%rsp), %rbp
	leaq	0x40(%rsp), %rsp
	.cfi_adjust_cfa_offset -0x40
	jmp	*%rax
	.cfi_endproc
	.size	ac__coro_switch, .-ac__coro_switch

/*
 * void *ac__coro_prepare(void *stack_top, void (*entry)(void *), void *arg)
 * Write a first frame below stack_top and return its address, to be passed to
 * ac__coro_switch as load_sp. The new context starts in coro_start with
 * r12 = arg and r13 = entry, and the FP control state of the caller.
 */
	.globl	ac__coro_prepare
	.hidden	ac__coro_prepare
	.type	ac__coro_prepare, @function
	.p2align 4
ac__coro_prepare:
	.cfi_startproc
	/* The switch pops 0x40 bytes and jumps to coro_start with rsp at the
	 * 16-byte aligned top; its call then enters entry with rsp = 8 mod 16,
	 * as the ABI requires at a function's first instruction. */
	movq	%rdi, %rax
	andq	$-16, %rax
	subq	$0x40, %rax
	stmxcsr	0x00(%rax)
	fnstcw	0x04(%rax)
	movq	%rdx, 0x08(%rax)	/* r12: entry's argument */
	movq	%rsi, 0x10(%rax)	/* r13: entry */
	xorl	%ecx, %ecx
	movq	%rcx, 0x18(%rax)	/* r14 */
	movq	%rcx, 0x20(%rax)	/* r15 */
	movq	%rcx, 0x28(%rax)	/* rbx */
	movq	%rcx, 0x30(%rax)	/* rbp = 0 ends frame-pointer walks here */
	leaq	coro_start(%rip), %rcx
	movq	%rcx, 0x38(%rax)
	ret
	.cfi_endproc
	.size	ac__coro_prepare, .-ac__coro_prepare

/*
 * The first code a coroutine runs. entry never returns (its last act is a
 * switch away), so nothing ever "returns" off the top of the stack; ud2 makes
 * sure of it. The undefined return address ends debugger backtraces here.
 */
	.type	coro_start, @function
	.p2align 4
coro_start:
	.cfi_startproc
	.cfi_undefined rip
	movq	%r12, %rdi
	call	*%r13
	ud2
	.cfi_endproc
	.size	coro_start, .-coro_start

	.section .note.GNU-stack,"",@progbits
