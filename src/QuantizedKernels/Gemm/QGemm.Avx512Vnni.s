# AVX-512 VNNI machine code for the avx512vnni path: the GEMM's tiles (QGemm.Avx512Vnni.cs) and the depthwise 3x3 rows
# of flat planes (DepthwiseConv.Avx2.cs, edge_dw3x3_*; kept here so that the path has one code image). .NET 10 has no API for the EVEX-encoded
# VPDPBUSD (its AvxVnni class is the VEX form, which Zen 4 and Ice Lake lack), so these routines are assembled once by
# tools/assemble-machine-code.sh into QGemm.Avx512Vnni.MachineCode.cs, mapped executable at run time and called
# through unmanaged function pointers. System V AMD64 calling convention (Linux x64 only: the Windows convention would
# need xmm6-xmm15 preserved). The GEMM routines run on zmm registers (see ZQUADS_KLOOP) and end with VZEROUPPER;
# the depthwise routines use zmm where the CPU has AVX512_VBMI (edge_dw3x3z_*), ymm otherwise (edge_dw3x3_*). Only
# the requantizing routines touch the stack (callee-saved registers).
.intel_syntax noprefix
.text

# uint64 edge_xgetbv0(void): XCR0, the register states the OS saves. Call only when CPUID.1:ECX.OSXSAVE is set.
.globl edge_xgetbv0
edge_xgetbv0:
  xor ecx, ecx
  xgetbv
  shl rdx, 32
  or rax, rdx
  ret

# VPERMD indices (dwords) that turn the lanes of a 512-bit byte pack back into order: after VPACKSSDW of accumulators
# (a0, a1) and (a2, a3) and the byte pack of the two, lane L holds the dwords (a0, a1, a2, a3) of their columns
# 4L..4L+3; index 4m + L = 4L + m makes lane m accumulator m's sixteen bytes. Read by ZROWS_TO_BYTES (accumulators =
# rows) and DWZ_ENTRY (accumulators = blocks of sixteen outputs).
.p2align 6
ZMM_LANE_ORDER:
  .long 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15

# Broadcast operands of CORRECT_ROWS: a byte's mask and the 128 between a panel's uint8 u and the int8 s = u - 128.
CORRECTION_BYTE_MASK:
  .long 255
CORRECTION_HALF:
  .long 128

# The k loop of the GEMM routines on 512-bit vectors: a step's 16 panel columns are one zmm (64 bytes) and a row's
# accumulator one zmm, so a step is 1 load and 6 VPDPBUSD where 256-bit vectors need 2 and 12. Six chains are too
# few to cover VPDPBUSD's latency at two per cycle (Zen 5), so even steps go into zmm0-zmm5 and odd steps into
# zmm6-zmm11, added at the end (integer addition is associative, so the sums are the same). zmm0-zmm5 start at
# zmm16-zmm21 (the rows' start values: bias[r] + rowOffsets[r], broadcast once per call by QUADS_PANELS_REQUANTIZE, or
# edge_quads6x16's initial[r]), zmm6-zmm11 at 0. rdi = a, rsi = panel, rdx = steps; on exit rdi and rsi point past
# the last step; rax is clobbered.
.macro ZQUADS_KLOOP
  vmovdqa32 zmm0, zmm16
  vmovdqa32 zmm1, zmm17
  vmovdqa32 zmm2, zmm18
  vmovdqa32 zmm3, zmm19
  vmovdqa32 zmm4, zmm20
  vmovdqa32 zmm5, zmm21
  vpxor xmm6, xmm6, xmm6
  vpxor xmm7, xmm7, xmm7
  vpxor xmm8, xmm8, xmm8
  vpxor xmm9, xmm9, xmm9
  vpxor xmm10, xmm10, xmm10
  vpxor xmm11, xmm11, xmm11
  mov rax, rdx
  sar rax, 1
  jle 4f
5:
  vmovdqu32 zmm12, zmmword ptr [rsi]
  vmovdqu32 zmm13, zmmword ptr [rsi+64]
  vpdpbusd zmm0, zmm12, dword ptr [rdi]{1to16}
  vpdpbusd zmm6, zmm13, dword ptr [rdi+24]{1to16}
  vpdpbusd zmm1, zmm12, dword ptr [rdi+4]{1to16}
  vpdpbusd zmm7, zmm13, dword ptr [rdi+28]{1to16}
  vpdpbusd zmm2, zmm12, dword ptr [rdi+8]{1to16}
  vpdpbusd zmm8, zmm13, dword ptr [rdi+32]{1to16}
  vpdpbusd zmm3, zmm12, dword ptr [rdi+12]{1to16}
  vpdpbusd zmm9, zmm13, dword ptr [rdi+36]{1to16}
  vpdpbusd zmm4, zmm12, dword ptr [rdi+16]{1to16}
  vpdpbusd zmm10, zmm13, dword ptr [rdi+40]{1to16}
  vpdpbusd zmm5, zmm12, dword ptr [rdi+20]{1to16}
  vpdpbusd zmm11, zmm13, dword ptr [rdi+44]{1to16}
  add rdi, 48
  add rsi, 128
  dec rax
  jnz 5b
4:
  test dl, 1
  jz 6f
  vmovdqu32 zmm12, zmmword ptr [rsi]
  vpdpbusd zmm0, zmm12, dword ptr [rdi]{1to16}
  vpdpbusd zmm1, zmm12, dword ptr [rdi+4]{1to16}
  vpdpbusd zmm2, zmm12, dword ptr [rdi+8]{1to16}
  vpdpbusd zmm3, zmm12, dword ptr [rdi+12]{1to16}
  vpdpbusd zmm4, zmm12, dword ptr [rdi+16]{1to16}
  vpdpbusd zmm5, zmm12, dword ptr [rdi+20]{1to16}
  add rdi, 24
  add rsi, 64
6:
  vpaddd zmm0, zmm0, zmm6
  vpaddd zmm1, zmm1, zmm7
  vpaddd zmm2, zmm2, zmm8
  vpaddd zmm3, zmm3, zmm9
  vpaddd zmm4, zmm4, zmm10
  vpaddd zmm5, zmm5, zmm11
.endm

# void edge_quads6x16(const int32* a, const int32* panel, int64 steps, const int32* initial, int32* c, int64 ldcBytes)
# A 6-row x 16-column int32 tile: c[r][j] = initial[r] + sum over s < steps of dot4(panel[s][j], a[s][r]), where a is
# [steps][6 rows] int32, each four int8 weights, panel is [steps][16 columns] int32, each four uint8 activations, and
# dot4 sums the four uint8 x int8 products exactly (VPDPBUSD, wrapping int32 accumulation). Row r of c starts at
# c + r * ldcBytes. The k loop of the requantizing routines (ZQUADS_KLOOP, below: one zmm per row, even and odd steps
# in separate chains) from initial[r] broadcast into zmm16-zmm21, then one 64-byte store per row.
.globl edge_quads6x16
edge_quads6x16:
  vpbroadcastd zmm16, dword ptr [rcx]
  vpbroadcastd zmm17, dword ptr [rcx+4]
  vpbroadcastd zmm18, dword ptr [rcx+8]
  vpbroadcastd zmm19, dword ptr [rcx+12]
  vpbroadcastd zmm20, dword ptr [rcx+16]
  vpbroadcastd zmm21, dword ptr [rcx+20]
  ZQUADS_KLOOP
  vmovdqu32 zmmword ptr [r8], zmm0
  add r8, r9
  vmovdqu32 zmmword ptr [r8], zmm1
  add r8, r9
  vmovdqu32 zmmword ptr [r8], zmm2
  add r8, r9
  vmovdqu32 zmmword ptr [r8], zmm3
  add r8, r9
  vmovdqu32 zmmword ptr [r8], zmm4
  add r8, r9
  vmovdqu32 zmmword ptr [r8], zmm5
  vzeroupper
  ret


# Row r's sixteen int32 sums (one zmm) scaled as QGemm.Avx2.Fused.cs's Avx2RequantizeRowsInt16 does: convert to float,
# multiply by the row's multiplier (m), min with the cap (broadcast from [rcx+36]) when cap, convert to int32 (round
# half to even, MXCSR's mode).
.macro ZSCALE acc, m, cap
  vcvtdq2ps \acc, \acc
  vmulps \acc, \acc, \m
  .if \cap
  vminps \acc, \acc, dword ptr [rcx+36]{1to16}
  .endif
  vcvtps2dq \acc, \acc
.endm

# The six scaled rows zmm0-zmm5 to bytes, operation for operation as Avx2RequantizeRowsInt16 (VPACKSSDW, VPADDSW the
# zero point, pack = VPACKSSWB for int8 or VPACKUSWB for uint8, clamp (max, min) on bytes): only the order of the lanes
# differs, and VPERMD restores it. Packs work within 128-bit lanes, so after VPACKSSDW of rows (0, 1) and the byte pack
# with rows (2, 3), lane L of zmm0 holds the dwords (row 0, row 1, row 2, row 3) of columns 4L..4L+3; the row order
# in zmm31 (ZMM_LANE_ORDER) makes lane r row r's sixteen bytes. Rows 4 and 5
# are packed with themselves, giving (row 4, row 5) in lanes 0 and 1. Stores: 16 bytes per row at r8 + r * r9; r10 is
# clobbered.
.macro ZROWS_TO_BYTES pack, max, min, clamp
  vpackssdw zmm0, zmm0, zmm1
  vpackssdw zmm2, zmm2, zmm3
  vpackssdw zmm4, zmm4, zmm5
  vpaddsw zmm0, zmm0, zmm28
  vpaddsw zmm2, zmm2, zmm28
  vpaddsw zmm4, zmm4, zmm28
  \pack zmm0, zmm0, zmm2
  \pack zmm4, zmm4, zmm4
  vpermd zmm0, zmm31, zmm0
  vpermd zmm4, zmm31, zmm4
  .if \clamp
  \max zmm0, zmm0, zmm29
  \min zmm0, zmm0, zmm30
  \max zmm4, zmm4, zmm29
  \min zmm4, zmm4, zmm30
  .endif
  lea r10, [r8+2*r9]
  vmovdqu xmmword ptr [r8], xmm0
  vextracti32x4 xmmword ptr [r8+r9], zmm0, 1
  vextracti32x4 xmmword ptr [r10], zmm0, 2
  vextracti32x4 xmmword ptr [r10+r9], zmm0, 3
  lea r10, [r10+2*r9]
  vmovdqu xmmword ptr [r10], xmm4
  vextracti32x4 xmmword ptr [r10+r9], zmm4, 1
.endm

# void edge_quads6x16_requantize_s8(const int32* a, const int32* panel, int64 steps, const Context* context, uint8* y, int64 ldy)
# void edge_quads6x16_requantize_u8(...): the same with uint8 output.
# One row block of the fused GEMM's quad format times context->panels consecutive full 16-column panels (each
# steps * 64 bytes, the next right after): per panel, the k loop (ZQUADS_KLOOP) from bias[r] + rowOffsets[r], then the
# six rows requantized to bytes at y + r * ldy (ZSCALE, ZROWS_TO_BYTES); y advances 16 bytes per panel. Context
# (QGemm.Avx512Vnni.cs, Avx512VnniEpilogue), 56 bytes: 0 int32* bias, 8 int32* rowOffsets, 16 float* multipliers,
# 24 int64 panels (>= 1), 32 int16 zero point, 34 uint8 minimum, 35 uint8 maximum (as bytes of the output type),
# 36 float product cap (+infinity for none), 40 int32* corrections, 48 int64 correction count: (code, d) pairs of the
# block's weights that did not fit the packed int8 (code = k * 8 + row), each adding d * (u - 128) of that k to its
# row before the scaling (CORRECT_ROWS). rbx, r12-r15 hold the panel loop and are restored; 384 bytes of stack hold
# the six rows while corrections are added.
# Everything that is the same for every panel is loaded once per call into the EVEX-only registers (caller-saved in
# System V): zmm16-zmm21 the rows' bias + rowOffsets, zmm22-zmm27 their multipliers, zmm28-zmm31 the zero point, the
# byte bounds and the lane order; the requantization reads no memory but the cap.
# 512-bit vectors: on Zen 5 a zmm VPDPBUSD does twice the work of a ymm one at the same rate (12 independent chains on
# the 2026-11-29 machine: 845 against 422 GOPS), and on Zen 4, which splits it in two, the same work takes half the
# instructions.
.macro ROW_START offset, start, multiplier
  mov edi, dword ptr [rax+\offset]
  add edi, dword ptr [r10+\offset]
  vpbroadcastd \start, edi
  vbroadcastss \multiplier, dword ptr [r11+\offset]
.endm

# The block's corrections (context +40, +48) added to the six rows zmm0-zmm5 of the panel at rbx: the rows go to the
# 384 bytes at rsp, each entry (code, d) adds d * (u - 128) to row code & 7, u the byte k % 4 of each column's dword in
# the panel's step k / 4 (k = code >> 3), and the rows come back. Integer additions wrap like the C# corrected kernel's,
# and addition is associative, so the sums are exactly that kernel's. Clobbers rax, rdx, rdi, r10, r11, zmm12, zmm13.
.macro CORRECT_ROWS
  mov r11, qword ptr [rcx+48]
  test r11, r11
  jz 7f
  mov r10, qword ptr [rcx+40]
  .irp row, 0, 1, 2, 3, 4, 5
  vmovdqu32 zmmword ptr [rsp+64*\row], zmm\row
  .endr
8:
  mov eax, dword ptr [r10]
  mov edi, eax
  and edi, 7
  shl edi, 6
  shr eax, 3
  mov edx, eax
  and edx, 3
  shl edx, 3
  shr eax, 2
  shl rax, 6
  vmovd xmm13, edx
  vmovdqu32 zmm12, zmmword ptr [rbx+rax]
  vpsrld zmm12, zmm12, xmm13
  vpandd zmm12, zmm12, dword ptr [rip+CORRECTION_BYTE_MASK]{1to16}
  vpsubd zmm12, zmm12, dword ptr [rip+CORRECTION_HALF]{1to16}
  vpmulld zmm12, zmm12, dword ptr [r10+4]{1to16}
  vpaddd zmm12, zmm12, zmmword ptr [rsp+rdi]
  vmovdqu32 zmmword ptr [rsp+rdi], zmm12
  add r10, 8
  dec r11
  jnz 8b
  .irp row, 0, 1, 2, 3, 4, 5
  vmovdqu32 zmm\row, zmmword ptr [rsp+64*\row]
  .endr
7:
.endm

.macro QUADS_PANELS_REQUANTIZE pack, max, min, cap, clamp
  push rbx
  push r12
  push r13
  push r14
  push r15
  sub rsp, 384
  mov r12, rdi
  mov r13, rdx
  mov r14, qword ptr [rcx+24]
  mov r15, r8
  mov rbx, rsi
  mov rax, qword ptr [rcx]
  mov r10, qword ptr [rcx+8]
  mov r11, qword ptr [rcx+16]
  ROW_START 0, zmm16, zmm22
  ROW_START 4, zmm17, zmm23
  ROW_START 8, zmm18, zmm24
  ROW_START 12, zmm19, zmm25
  ROW_START 16, zmm20, zmm26
  ROW_START 20, zmm21, zmm27
  vpbroadcastw zmm28, word ptr [rcx+32]
  vpbroadcastb zmm29, byte ptr [rcx+34]
  vpbroadcastb zmm30, byte ptr [rcx+35]
  vmovdqu32 zmm31, zmmword ptr [rip+ZMM_LANE_ORDER]
3:
  mov rdi, r12
  mov rsi, rbx
  mov rdx, r13
  mov r8, r15
  ZQUADS_KLOOP
  CORRECT_ROWS
  mov rbx, rsi
  ZSCALE zmm0, zmm22, \cap
  ZSCALE zmm1, zmm23, \cap
  ZSCALE zmm2, zmm24, \cap
  ZSCALE zmm3, zmm25, \cap
  ZSCALE zmm4, zmm26, \cap
  ZSCALE zmm5, zmm27, \cap
  ZROWS_TO_BYTES \pack, \max, \min, \clamp
  add r15, 16
  dec r14
  jg 3b
  add rsp, 384
  pop r15
  pop r14
  pop r13
  pop r12
  pop rbx
  vzeroupper
  ret
.endm

.macro REQUANTIZE_ENTRY name, pack, max, min, cap, clamp
.globl \name
\name:
  QUADS_PANELS_REQUANTIZE \pack, \max, \min, \cap, \clamp
.endm

# int8 and uint8 output with the cap and the byte clamp, then without the cap, without the clamp, without both (ZSCALE,
# ZROWS_TO_BYTES).
REQUANTIZE_ENTRY edge_quads6x16_requantize_s8, vpacksswb, vpmaxsb, vpminsb, 1, 1
REQUANTIZE_ENTRY edge_quads6x16_requantize_u8, vpackuswb, vpmaxub, vpminub, 1, 1
REQUANTIZE_ENTRY edge_quads6x16_requantize_s8_uncapped, vpacksswb, vpmaxsb, vpminsb, 0, 1
REQUANTIZE_ENTRY edge_quads6x16_requantize_u8_uncapped, vpackuswb, vpmaxub, vpminub, 0, 1
REQUANTIZE_ENTRY edge_quads6x16_requantize_s8_unclamped, vpacksswb, vpmaxsb, vpminsb, 1, 0
REQUANTIZE_ENTRY edge_quads6x16_requantize_u8_unclamped, vpackuswb, vpmaxub, vpminub, 1, 0
REQUANTIZE_ENTRY edge_quads6x16_requantize_s8_uncapped_unclamped, vpacksswb, vpmaxsb, vpminsb, 0, 0
REQUANTIZE_ENTRY edge_quads6x16_requantize_u8_uncapped_unclamped, vpackuswb, vpmaxub, vpminub, 0, 0

# int32 edge_dpbusd_chains(int64 iterations): 12 independent VPDPBUSD ymm dependency chains, 12 x 32 = 384 u8 x s8
# multiply-adds per iteration, for the benchmarks' peak probe. Returns a lane of the folded sum so the work is used.
# int32 edge_dpbusd_chains_zmm(int64 iterations): the same on zmm registers, 12 x 64 = 768 per iteration: the peak of
# the requantizing routines, which run on zmm (on Zen 5 twice the ymm peak, on Zen 4 the same).
# r = the register prefix (ymm or zmm); both operands are bytes of 1, so each VPDPBUSD adds 4 to every lane.
.macro DPBUSD_CHAINS name, r
.globl \name
\name:
  vpternlogd \r\()12, \r\()12, \r\()12, 0xff
  vpabsb \r\()12, \r\()12
  vmovdqa32 \r\()13, \r\()12
  .irp i, 0,1,2,3,4,5,6,7,8,9,10,11
  vpxor xmm\i, xmm\i, xmm\i
  .endr
  test rdi, rdi
  jle 2f
1:
  .irp i, 0,1,2,3,4,5,6,7,8,9,10,11
  vpdpbusd \r\()\i, \r\()12, \r\()13
  .endr
  dec rdi
  jnz 1b
2:
  vpaddd \r\()0, \r\()0, \r\()1
  vpaddd \r\()2, \r\()2, \r\()3
  vpaddd \r\()4, \r\()4, \r\()5
  vpaddd \r\()6, \r\()6, \r\()7
  vpaddd \r\()8, \r\()8, \r\()9
  vpaddd \r\()10, \r\()10, \r\()11
  vpaddd \r\()0, \r\()0, \r\()2
  vpaddd \r\()4, \r\()4, \r\()6
  vpaddd \r\()8, \r\()8, \r\()10
  vpaddd \r\()0, \r\()0, \r\()4
  vpaddd \r\()0, \r\()0, \r\()8
  vmovd eax, xmm0
  vzeroupper
  ret
.endm

DPBUSD_CHAINS edge_dpbusd_chains, ymm
DPBUSD_CHAINS edge_dpbusd_chains_zmm, zmm

# Depthwise 3x3 on flat byte planes (DepthwiseConv's FlatPlan, as the SDOT path lays them out), for the avx512vnni
# path: flattened output q of one channel is
#   y[q] = requantize(bias + sum over kh < 3 of dot4(window(r_kh, q), w_kh))
# where window(r, q) = the four uint8 bytes r[s*q .. s*q + 3] (s = the stride; int8 input is stored XORed with 0x80 by
# the plane copy, i.e. as x + 128, and the bias accounts for the shift) and w_kh = the int8 weights
# (w[kh][0], w[kh][1], w[kh][2], 0): VPDPBUSD then sums the three real taps of a row in one instruction.
# Requantization is the int16 sequence of the fused GEMM (Avx2RequantizeRowsInt16) without the cap (the caller guarantees
# |multiplier| < 1):
# float(acc) * multiplier, to int32 (VCVTPS2DQ, round to nearest even), VPACKSSDW, VPADDSW the zero point, packed to
# bytes with the output type's saturation (pack = VPACKSSWB for int8, VPACKUSWB for uint8), VPERMD into output order,
# clamped on bytes (max, min). Equal to the definition for the reasons given at Avx2RequantizeRowsInt16.
# void edge_dw3x3_s{1,2}_{s8,u8}(const uint8* r0, const uint8* r1, const uint8* r2, int64 blocks, const ctx*, uint8* y)
# computes outputs 0 .. 16*blocks - 1 (y must hold them all; each r_kh is read up to 16 bytes past 16 * blocks at
# stride 1, 8 past 32 * blocks at stride 2).
# Blocks go in pairs (32 outputs, one 32-byte store); an odd last block alone (16 bytes).
# ctx (little-endian, 96 bytes): +0 32 bytes of VPSHUFB indices (the windows of eight outputs in a 128-bit lane pair),
# +32/+36/+40 int32 w_0/w_1/w_2, +44 int32 bias, +48 float multiplier, +52 int16 zero point (twice),
# +56 four copies of the minimum byte, +60 four of the maximum byte (as bytes of the output type), +64 int32[8] the
# output order of the stride (DW_ENTRY).
# Registers: ymm12-14 weights, ymm15 indices, ymm10 bias, ymm9 multiplier, ymm8 zero point, ymm7/ymm6 minimum/maximum,
# ymm11 output order, ymm0-ymm3 the accumulators of 32 outputs (8 each), ymm4/ymm5 windows.
.macro DW_SETUP
  vmovdqu ymm15, ymmword ptr [r8]
  vpbroadcastd ymm12, dword ptr [r8+32]
  vpbroadcastd ymm13, dword ptr [r8+36]
  vpbroadcastd ymm14, dword ptr [r8+40]
  vpbroadcastd ymm10, dword ptr [r8+44]
  vbroadcastss ymm9, dword ptr [r8+48]
  vpbroadcastd ymm8, dword ptr [r8+52]
  vpbroadcastd ymm7, dword ptr [r8+56]
  vpbroadcastd ymm6, dword ptr [r8+60]
  vmovdqu ymm11, ymmword ptr [r8+64]
.endm

# One kernel row of sixteen outputs: their windows in ymm4 (outputs 0-7) and ymm5 (8-15), loaded by the stride's
# LOAD macro, into the accumulators lo (0-7) and hi (8-15).
.macro DW_ROW lo, hi, weights
  vpshufb ymm4, ymm4, ymm15
  vpshufb ymm5, ymm5, ymm15
  vpdpbusd \lo, ymm4, \weights
  vpdpbusd \hi, ymm5, \weights
.endm

# Stride 1: outputs 0-7 read bytes 0-10, so both lanes hold bytes 0-15 (VBROADCASTI128) and the lanes' indices pick
# the windows of outputs 0-3 and 4-7; outputs 8-15 the same from byte 8. offset = 16 * (block in the pair).
.macro DW_LOAD_S1 row, offset
  vbroadcasti128 ymm4, xmmword ptr [\row+\offset]
  vbroadcasti128 ymm5, xmmword ptr [\row+\offset+8]
.endm

# Stride 2: plain 32-byte loads, no shuffle: a lane of 16 bytes holds the windows of four outputs (bytes 0-9 of the
# lane), so bytes 0-31 give outputs 0-3 (low lane) and 8-11 (high lane), and bytes 8-39 outputs 4-7 and 12-15. The
# accumulators then hold (0-3 | 8-11) and (4-7 | 12-15), and the output order differs from stride 1's (see DW_ENTRY).
# offset = 32 * block.
.macro DW_LOAD_S2 row, offset
  vmovdqu ymm4, ymmword ptr [\row+\offset]
  vmovdqu ymm5, ymmword ptr [\row+\offset+8]
.endm

.macro DW_SCALE acc
  vcvtdq2ps \acc, \acc
  vmulps \acc, \acc, ymm9
  vcvtps2dq \acc, \acc
.endm

# Sixteen outputs (block b of the pair, b = 0: ymm0/ymm1, b = 1: ymm2/ymm3) from the three rows.
.macro DW_BLOCK load, b, step
  .if \b
  DW_LOAD_\load rdi, \step
  DW_ROW ymm2, ymm3, ymm12
  DW_LOAD_\load rsi, \step
  DW_ROW ymm2, ymm3, ymm13
  DW_LOAD_\load rdx, \step
  DW_ROW ymm2, ymm3, ymm14
  .else
  DW_LOAD_\load rdi, 0
  DW_ROW ymm0, ymm1, ymm12
  DW_LOAD_\load rsi, 0
  DW_ROW ymm0, ymm1, ymm13
  DW_LOAD_\load rdx, 0
  DW_ROW ymm0, ymm1, ymm14
  .endif
.endm

# VPACKSSDW packs within lanes. Stride 1: words of a block = (0-3, 8-11 | 4-7, 12-15), and the byte pack of blocks a
# and b gives dwords (a 0-3, a 8-11, b 0-3, b 8-11 | a 4-7, a 12-15, b 4-7, b 12-15), which VPERMD (0, 4, 1, 5, 2, 6,
# 3, 7) orders. Stride 2: words (0-3, 4-7 | 8-11, 12-15), dwords (a 0-3, a 4-7, b 0-3, b 4-7 | a 8-11, a 12-15, b 8-11,
# b 12-15), ordered by (0, 1, 4, 5, 2, 3, 6, 7). The context holds the stride's order; a lone block (packed with
# itself) comes out right with either.
.macro DW_ENTRY name, load, step, pack, max, min
.globl \name
\name:
  DW_SETUP
  cmp rcx, 2
  jl 3f
1:
  vmovdqa ymm0, ymm10
  vmovdqa ymm1, ymm10
  vmovdqa ymm2, ymm10
  vmovdqa ymm3, ymm10
  DW_BLOCK \load, 0, \step
  DW_BLOCK \load, 1, \step
  DW_SCALE ymm0
  DW_SCALE ymm1
  DW_SCALE ymm2
  DW_SCALE ymm3
  vpackssdw ymm0, ymm0, ymm1
  vpackssdw ymm2, ymm2, ymm3
  vpaddsw ymm0, ymm0, ymm8
  vpaddsw ymm2, ymm2, ymm8
  \pack ymm0, ymm0, ymm2
  vpermd ymm0, ymm11, ymm0
  \max ymm0, ymm0, ymm7
  \min ymm0, ymm0, ymm6
  vmovdqu ymmword ptr [r9], ymm0
  add rdi, 2*\step
  add rsi, 2*\step
  add rdx, 2*\step
  add r9, 32
  sub rcx, 2
  cmp rcx, 2
  jge 1b
3:
  test rcx, rcx
  jle 2f
  vmovdqa ymm0, ymm10
  vmovdqa ymm1, ymm10
  DW_BLOCK \load, 0, \step
  DW_SCALE ymm0
  DW_SCALE ymm1
  vpackssdw ymm0, ymm0, ymm1
  vpaddsw ymm0, ymm0, ymm8
  \pack ymm0, ymm0, ymm0
  vpermd ymm0, ymm11, ymm0
  \max ymm0, ymm0, ymm7
  \min ymm0, ymm0, ymm6
  vmovdqu xmmword ptr [r9], xmm0
2:
  vzeroupper
  ret
.endm

DW_ENTRY edge_dw3x3_s1_s8, S1, 16, vpacksswb, vpmaxsb, vpminsb
DW_ENTRY edge_dw3x3_s1_u8, S1, 16, vpackuswb, vpmaxub, vpminub
DW_ENTRY edge_dw3x3_s2_s8, S2, 32, vpacksswb, vpmaxsb, vpminsb
DW_ENTRY edge_dw3x3_s2_u8, S2, 32, vpackuswb, vpmaxub, vpminub

# The same routines on 512-bit vectors for CPUs with AVX512_VBMI (Zen 4, Zen 5, Ice Lake and later; not Skylake-SP or
# Cascade Lake, which keep edge_dw3x3_*): void edge_dw3x3z_s{1,2}_{s8,u8}(r0, r1, r2, blocks, ctx, y), the same
# arguments, context, outputs and reads past the end as edge_dw3x3_*. A kernel row of sixteen outputs is one load and
# one VPERMB, which gathers all sixteen 4-byte windows across the register (dword j = bytes s*j .. s*j + 3), and one
# VPDPBUSD: 6 instructions per sixteen outputs where the 256-bit code needs 18. Stride 1 loads 32 bytes (windows reach
# byte 18), stride 2 40 bytes under the mask k1 (windows reach byte 33), so neither reads further than edge_dw3x3_*.
# Blocks go in fours (64 outputs, one 64-byte store: the byte pack of the four accumulators puts dword (lane L, m) =
# outputs 16m + 4L.. in place 4L + m, which ZMM_LANE_ORDER puts back in order); the last 1-3 blocks one at a time (16 bytes).
# Registers: zmm12-14 weights, zmm15 VPERMB indices, zmm10 bias, zmm9 multiplier, zmm8 zero point, zmm7/zmm6 minimum/
# maximum, zmm11 the output order, zmm0-zmm3 the accumulators of 64 outputs (16 each), zmm4 windows, k1 the stride-2
# load mask.
.p2align 6
DWZ_WINDOWS_S1:
  .irp j, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
  .byte \j, \j+1, \j+2, \j+3
  .endr
DWZ_WINDOWS_S2:
  .irp j, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
  .byte 2*\j, 2*\j+1, 2*\j+2, 2*\j+3
  .endr
.macro DWZ_LOAD_S1 row, offset
  vmovdqu ymm4, ymmword ptr [\row+\offset]
.endm

.macro DWZ_LOAD_S2 row, offset
  vmovdqu8 zmm4{k1}{z}, zmmword ptr [\row+\offset]
.endm

# Kernel row (row pointer, weights) of the sixteen outputs at block offset into acc.
.macro DWZ_ROW load, row, offset, weights, acc
  DWZ_LOAD_\load \row, \offset
  vpermb zmm4, zmm15, zmm4
  vpdpbusd \acc, zmm4, \weights
.endm

.macro DWZ_BLOCK load, offset, acc
  DWZ_ROW \load, rdi, \offset, zmm12, \acc
  DWZ_ROW \load, rsi, \offset, zmm13, \acc
  DWZ_ROW \load, rdx, \offset, zmm14, \acc
.endm

.macro DWZ_SCALE acc
  vcvtdq2ps \acc, \acc
  vmulps \acc, \acc, zmm9
  vcvtps2dq \acc, \acc
.endm

.macro DWZ_ENTRY name, load, step, pack, max, min
.globl \name
\name:
  lea rax, [rip+DWZ_WINDOWS_\load]
  vmovdqu64 zmm15, zmmword ptr [rax]
  vmovdqu64 zmm11, zmmword ptr [rip+ZMM_LANE_ORDER]
  mov rax, 0xFFFFFFFFFF
  kmovq k1, rax
  vpbroadcastd zmm12, dword ptr [r8+32]
  vpbroadcastd zmm13, dword ptr [r8+36]
  vpbroadcastd zmm14, dword ptr [r8+40]
  vpbroadcastd zmm10, dword ptr [r8+44]
  vbroadcastss zmm9, dword ptr [r8+48]
  vpbroadcastd zmm8, dword ptr [r8+52]
  vpbroadcastd zmm7, dword ptr [r8+56]
  vpbroadcastd zmm6, dword ptr [r8+60]
  cmp rcx, 4
  jl 3f
1:
  vmovdqa32 zmm0, zmm10
  vmovdqa32 zmm1, zmm10
  vmovdqa32 zmm2, zmm10
  vmovdqa32 zmm3, zmm10
  DWZ_BLOCK \load, 0, zmm0
  DWZ_BLOCK \load, \step, zmm1
  DWZ_BLOCK \load, 2*\step, zmm2
  DWZ_BLOCK \load, 3*\step, zmm3
  DWZ_SCALE zmm0
  DWZ_SCALE zmm1
  DWZ_SCALE zmm2
  DWZ_SCALE zmm3
  vpackssdw zmm0, zmm0, zmm1
  vpackssdw zmm2, zmm2, zmm3
  vpaddsw zmm0, zmm0, zmm8
  vpaddsw zmm2, zmm2, zmm8
  \pack zmm0, zmm0, zmm2
  vpermd zmm0, zmm11, zmm0
  \max zmm0, zmm0, zmm7
  \min zmm0, zmm0, zmm6
  vmovdqu64 zmmword ptr [r9], zmm0
  add rdi, 4*\step
  add rsi, 4*\step
  add rdx, 4*\step
  add r9, 64
  sub rcx, 4
  cmp rcx, 4
  jge 1b
3:
  test rcx, rcx
  jle 2f
4:
  vmovdqa32 zmm0, zmm10
  DWZ_BLOCK \load, 0, zmm0
  DWZ_SCALE zmm0
  vpackssdw zmm0, zmm0, zmm0
  vpaddsw zmm0, zmm0, zmm8
  \pack zmm0, zmm0, zmm0
  vpermd zmm0, zmm11, zmm0
  \max zmm0, zmm0, zmm7
  \min zmm0, zmm0, zmm6
  vmovdqu xmmword ptr [r9], xmm0
  add rdi, \step
  add rsi, \step
  add rdx, \step
  add r9, 16
  dec rcx
  jnz 4b
2:
  vzeroupper
  ret
.endm

DWZ_ENTRY edge_dw3x3z_s1_s8, S1, 16, vpacksswb, vpmaxsb, vpminsb
DWZ_ENTRY edge_dw3x3z_s1_u8, S1, 16, vpackuswb, vpmaxub, vpminub
DWZ_ENTRY edge_dw3x3z_s2_s8, S2, 32, vpacksswb, vpmaxsb, vpminsb
DWZ_ENTRY edge_dw3x3z_s2_u8, S2, 32, vpackuswb, vpmaxub, vpminub

# void edge_pack_quads4(b, ldb, k, destination, panelBytes): four full 16-column panels of the quad B format (columns
# 0..63 of the int8 rows b + kk*ldb, kk < k) into destination, destination + panelBytes, + 2*panelBytes and
# + 3*panelBytes: per k quad (rows past k zero) the 64-byte rows flipped to uint8 (XOR 0x80), bytes and then words
# interleaved within 128-bit lanes (lane L: columns 16L..16L+15, four per register), and a 4x4 transpose of lanes
# (VSHUFI32X4) that gathers each panel's 64 bytes into one register. The same bytes as QGemm's C# packers
# (PackBPanelQuadsAvx2 per panel); here so that the Native AOT build, whose runtime flags report no AVX-512 (its
# instruction-set baseline is x86-64-v3), packs four panels at a time as the JIT build does.
# rdi = b, rsi = ldb, rdx = k, rcx = destination, r8 = panelBytes; clobbers r9, r10, zmm0-zmm16.
.macro PACK_QUADS4_STORE
  vpunpcklbw zmm4, zmm0, zmm1
  vpunpckhbw zmm5, zmm0, zmm1
  vpunpcklbw zmm6, zmm2, zmm3
  vpunpckhbw zmm7, zmm2, zmm3
  vpunpcklwd zmm8, zmm4, zmm6
  vpunpckhwd zmm9, zmm4, zmm6
  vpunpcklwd zmm10, zmm5, zmm7
  vpunpckhwd zmm11, zmm5, zmm7
  vshufi32x4 zmm12, zmm8, zmm9, 0x44
  vshufi32x4 zmm13, zmm8, zmm9, 0xEE
  vshufi32x4 zmm14, zmm10, zmm11, 0x44
  vshufi32x4 zmm15, zmm10, zmm11, 0xEE
  vshufi32x4 zmm4, zmm12, zmm14, 0x88
  vshufi32x4 zmm5, zmm12, zmm14, 0xDD
  vshufi32x4 zmm6, zmm13, zmm15, 0x88
  vshufi32x4 zmm7, zmm13, zmm15, 0xDD
  vmovdqu64 zmmword ptr [rcx], zmm4
  vmovdqu64 zmmword ptr [rcx+r8], zmm5
  vmovdqu64 zmmword ptr [rcx+r8*2], zmm6
  vmovdqu64 zmmword ptr [rcx+r10], zmm7
.endm

.globl edge_pack_quads4
edge_pack_quads4:
  mov eax, 0x80808080
  vpbroadcastd zmm16, eax
  lea r9, [rsi+rsi*2]
  lea r10, [r8+r8*2]
  cmp rdx, 4
  jl 2f
1:
  vpxord zmm0, zmm16, zmmword ptr [rdi]
  vpxord zmm1, zmm16, zmmword ptr [rdi+rsi]
  vpxord zmm2, zmm16, zmmword ptr [rdi+rsi*2]
  vpxord zmm3, zmm16, zmmword ptr [rdi+r9]
  PACK_QUADS4_STORE
  lea rdi, [rdi+rsi*4]
  add rcx, 64
  sub rdx, 4
  cmp rdx, 4
  jge 1b
2:
  test rdx, rdx
  jle 3f
  vpxord zmm0, zmm16, zmmword ptr [rdi]
  vpxor xmm1, xmm1, xmm1
  vpxor xmm2, xmm2, xmm2
  vpxor xmm3, xmm3, xmm3
  cmp rdx, 2
  jl 4f
  vpxord zmm1, zmm16, zmmword ptr [rdi+rsi]
  cmp rdx, 3
  jl 4f
  vpxord zmm2, zmm16, zmmword ptr [rdi+rsi*2]
4:
  PACK_QUADS4_STORE
3:
  vzeroupper
  ret

# Channel groups of small planes on 512-bit vectors (AVX512_VBMI), the avx512vnni form of DepthwiseConv's AVX2 channel
# groups: void edge_dwgroup3x3z_s{1,2}(const uint8* window, uint8* y, int64 rows, int64 columns, const ctx*) computes a
# 3x3 depthwise convolution of sixteen channels at once from their transposed padded input ([padded row][padded
# column][16 channels] bytes, `window` = the top-left tap of output (0, 0)) into y ([rows * columns][16 channels] bytes).
# Per output pixel and kernel row i, the 48 bytes of columns s*ow .. s*ow + 2 are one masked load (nothing past them is
# read), XORed with the context's flip (0x80 bytes for int8 input: VPDPBUSD's first operand is unsigned, and the bias
# holds the 128 shift), and VPERMB makes dword c of them (x[c][i][0], x[c][i][1], x[c][i][2], 0): one VPDPBUSD against
# channel c's (w[c][i][0], w[c][i][1], w[c][i][2], 0) adds the row's three taps of all sixteen channels. Four pixels at
# a time (four accumulator chains), the last 1-3 of a row one at a time. Requantized per channel like the AVX2 groups'
# GroupRequantizer: float(acc) * multiplier, clamped to [yMin - zp, yMax - zp] in float, converted with rounding to
# nearest even, + zp, and narrowed (VPMOVDB) to the sixteen bytes of the pixel, already inside [yMin, yMax].
# ctx (little-endian, 352 bytes): +0/+64/+128 the kernel rows' weight dwords per channel, +192 int32[16] accumulator
# start per channel (bias - zp'·Σw, zp' the zero point as the code sees the input), +256 float[16] multipliers,
# +320 float yMin - zp, +324 float yMax - zp, +328 int32 zp, +332 the flip dword (0x80808080 or 0), +336 int64 bytes
# per padded row, +344 int64 bytes per output row step (stride * row bytes). The VPERMB indices are DWG_TAPS.
# Registers: zmm31 indices, zmm28-30 weights, zmm27 start, zmm26 multipliers, zmm25/zmm24 bounds, zmm23 zero point,
# zmm22 flip, k1 the 48-byte load mask, zmm16-19 accumulators, zmm0-11 windows; rdi the row's windows, rax a pixel's,
# r9/r11 one and two padded rows, r10 the output row step, r8 the columns left.
# VPERMB indices: byte 4c + j of a permuted kernel row takes byte 16j + c of the loaded one (column j of channel c);
# j = 3 reads byte 48 + c, past the 48-byte masked load (zero), which meets the weight 0.
.p2align 6
DWG_TAPS:
  .irp c, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
  .byte \c, 16+\c, 32+\c, 48+\c
  .endr

.macro DWG_PIXEL acc, t0, t1, t2, offset
  vmovdqa32 \acc, zmm27
  vmovdqu8 \t0{k1}{z}, zmmword ptr [rax+\offset]
  vmovdqu8 \t1{k1}{z}, zmmword ptr [rax+r9+\offset]
  vmovdqu8 \t2{k1}{z}, zmmword ptr [rax+r11+\offset]
  vpxord \t0, \t0, zmm22
  vpxord \t1, \t1, zmm22
  vpxord \t2, \t2, zmm22
  vpermb \t0, zmm31, \t0
  vpermb \t1, zmm31, \t1
  vpermb \t2, zmm31, \t2
  vpdpbusd \acc, \t0, zmm28
  vpdpbusd \acc, \t1, zmm29
  vpdpbusd \acc, \t2, zmm30
.endm

.macro DWG_STORE acc, offset
  vcvtdq2ps \acc, \acc
  vmulps \acc, \acc, zmm26
  vmaxps \acc, \acc, zmm25
  vminps \acc, \acc, zmm24
  vcvtps2dq \acc, \acc
  vpaddd \acc, \acc, zmm23
  vpmovdb xmm20, \acc
  vmovdqu32 xmmword ptr [rsi+\offset], xmm20
.endm

.macro DWG_ENTRY name, step
.globl \name
\name:
  vmovdqu64 zmm31, zmmword ptr [rip+DWG_TAPS]
  vmovdqu64 zmm28, zmmword ptr [r8]
  vmovdqu64 zmm29, zmmword ptr [r8+64]
  vmovdqu64 zmm30, zmmword ptr [r8+128]
  vmovdqu64 zmm27, zmmword ptr [r8+192]
  vmovups zmm26, zmmword ptr [r8+256]
  vbroadcastss zmm25, dword ptr [r8+320]
  vbroadcastss zmm24, dword ptr [r8+324]
  vpbroadcastd zmm23, dword ptr [r8+328]
  vpbroadcastd zmm22, dword ptr [r8+332]
  mov r9, qword ptr [r8+336]
  mov r10, qword ptr [r8+344]
  lea r11, [r9+r9]
  mov rax, 0xFFFFFFFFFFFF
  kmovq k1, rax
  test rdx, rdx
  jle 2f
1:
  mov rax, rdi
  mov r8, rcx
  cmp r8, 4
  jl 4f
3:
  DWG_PIXEL zmm16, zmm0, zmm1, zmm2, 0
  DWG_PIXEL zmm17, zmm3, zmm4, zmm5, \step
  DWG_PIXEL zmm18, zmm6, zmm7, zmm8, 2*\step
  DWG_PIXEL zmm19, zmm9, zmm10, zmm11, 3*\step
  DWG_STORE zmm16, 0
  DWG_STORE zmm17, 16
  DWG_STORE zmm18, 32
  DWG_STORE zmm19, 48
  add rax, 4*\step
  add rsi, 64
  sub r8, 4
  cmp r8, 4
  jge 3b
4:
  test r8, r8
  jle 5f
6:
  DWG_PIXEL zmm16, zmm0, zmm1, zmm2, 0
  DWG_STORE zmm16, 0
  add rax, \step
  add rsi, 16
  dec r8
  jnz 6b
5:
  add rdi, r10
  dec rdx
  jnz 1b
2:
  vzeroupper
  ret
.endm

DWG_ENTRY edge_dwgroup3x3z_s1, 16
DWG_ENTRY edge_dwgroup3x3z_s2, 32
