/*
 * acrawl's context switch for aarch64 (AAPCS64). See coro.h and
 * docs/internals/coroutines.md.
 *
 * A suspended context is a 176-byte frame on its own stack; its address is the
 * context's saved sp:
 *
 *   sp+0x00  d8  d9
 *   sp+0x10  d10 d11
 *   sp+0x20  d12 d13
 *   sp+0x30  d14 d15
 *   sp+0x40  x19 x20
 *   sp+0x50  x21 x22
 *   sp+0x60  x23 x24
 *   sp+0x70  x25 x26
 *   sp+0x80  x27 x28
 *   sp+0x90  x29 (fp) x30 (lr: where to resume)
 *   sp+0xa0  FPCR, 8 unused
 *
 * Only the callee-saved state is kept: the switch is an ordinary call for the
 * C code around it. FPCR (rounding mode, flush-to-zero) is kept per context
 * so that a coroutine that changes it does not change it for others; it is
 * written only when it differs, since an FPCR write can be slow.
 *
 * The switch resumes with br, not ret: a ret would go somewhere else than the
 * return-address predictor expects on every switch.
 */

	.text

/*
 * void ac__coro_switch(void **save_sp, void *load_sp)
 * Save the running context's frame, store its address in *save_sp, and resume
 * the context whose frame is at load_sp.
 */
	.globl	ac__coro_switch
	.hidden	ac__coro_switch
	.type	ac__coro_switch, %function
	.p2align 4
ac__coro_switch:
	.cfi_startproc
	sub	sp, sp, #0xb0
	.cfi_adjust_cfa_offset 0xb0
	stp	d8, d9, [sp, #0x00]
	stp	d10, d11, [sp, #0x10]
	stp	d12, d13, [sp, #0x20]
	stp	d14, d15, [sp, #0x30]
	stp	x19, x20, [sp, #0x40]
	stp	x21, x22, [sp, #0x50]
	stp	x23, x24, [sp, #0x60]
	stp	x25, x26, [sp, #0x70]
	stp	x27, x28, [sp, #0x80]
	stp	x29, x30, [sp, #0x90]
	mrs	x9, fpcr
	str	x9, [sp, #0xa0]
	mov	x10, sp
	str	x10, [x0]

	/* Both frames have the same layout, so the CFI above stays true. */
	mov	sp, x1
	ldr	x10, [sp, #0xa0]
	cmp	x9, x10
	b.eq	1f
	msr	fpcr, x10
1:	ldp	d8, d9, [sp, #0x00]
	ldp	d10, d11, [sp, #0x10]
	ldp	d12, d13, [sp, #0x20]
	ldp	d14, d15, [sp, #0x30]
	ldp	x19, x20, [sp, #0x40]
	ldp	x21, x22, [sp, #0x50]
	ldp	x23, x24, [sp, #0x60]
	ldp	x25, x26, [sp, #0x70]
	ldp	x27, x28, [sp, #0x80]
	ldp	x29, x30, [sp, #0x90]
	add	sp, sp, #0xb0
	.cfi_adjust_cfa_offset -0xb0
	br	x30
	.cfi_endproc
	.size	ac__coro_switch, .-ac__coro_switch

/*
 * void *ac__coro_prepare(void *stack_top, void (*entry)(void *), void *arg)
 * Write a first frame below stack_top and return its address, to be passed to
 * ac__coro_switch as load_sp. The new context starts in coro_start with
 * x19 = arg and x20 = entry, sp 16-byte aligned at the top of the stack, and
 * the FPCR of the caller.
 */
	.globl	ac__coro_prepare
	.hidden	ac__coro_prepare
	.type	ac__coro_prepare, %function
	.p2align 4
ac__coro_prepare:
	.cfi_startproc
	and	x0, x0, #~15
	sub	x0, x0, #0xb0
	stp	xzr, xzr, [x0, #0x00]	/* d8-d15 */
	stp	xzr, xzr, [x0, #0x10]
	stp	xzr, xzr, [x0, #0x20]
	stp	xzr, xzr, [x0, #0x30]
	stp	x2, x1, [x0, #0x40]	/* x19: entry's argument, x20: entry */
	stp	xzr, xzr, [x0, #0x50]	/* x21-x28 */
	stp	xzr, xzr, [x0, #0x60]
	stp	xzr, xzr, [x0, #0x70]
	stp	xzr, xzr, [x0, #0x80]
	adr	x9, coro_start
	stp	xzr, x9, [x0, #0x90]	/* x29 = 0 ends frame-pointer walks here */
	mrs	x9, fpcr
	stp	x9, xzr, [x0, #0xa0]
	ret
	.cfi_endproc
	.size	ac__coro_prepare, .-ac__coro_prepare

/*
 * The first code a coroutine runs. entry never returns (its last act is a
 * switch away), so nothing ever "returns" off the top of the stack; brk makes
 * sure of it. The undefined return address ends debugger backtraces here.
 */
	.type	coro_start, %function
	.p2align 4
coro_start:
	.cfi_startproc
	.cfi_undefined x30
	mov	x0, x19
	blr	x20
	brk	#0x3e8
	.cfi_endproc
	.size	coro_start, .-coro_start

	.section .note.GNU-stack,"",%progbits
