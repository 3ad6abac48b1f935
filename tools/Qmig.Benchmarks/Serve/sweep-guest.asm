; sweep-guest.asm: a 512-byte boot sector that keeps touching every 4 KiB page of guest RAM from
; 1 MiB up to 1 GiB, so that a guest resumed by a postcopy migration touches pages the background
; stream has not sent yet, and the destination must ask for them (its postcopy blocktime then
; measures the source). It follows dirty-guest.asm's conventions, which the benchmark's check that
; the guest runs relies on: the sweep counter is in ESI and stored at 0x10000 after every sweep,
; and the loop lives in the boot sector (CS base 0).
;
; It switches to 32-bit protected mode with flat 4 GiB segments, then for ever: ESI += 1; write ESI
; into the first word of every page of [1 MiB, 1 GiB); store ESI at 0x10000. The guest must have
; at least 1 GiB of RAM. Assemble: nasm -f bin -o sweep-guest.img sweep-guest.asm
org 0x7c00
bits 16
LOW equ 0x100000
HIGH equ 0x40000000
start:
    cli
    xor ax, ax
    mov ds, ax
    lgdt [gdt_descriptor]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp 0x08:protected
bits 32
protected:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7c00
    xor esi, esi
.sweep:
    inc esi
    mov edi, LOW
.page:
    mov [edi], esi
    add edi, 4096
    cmp edi, HIGH
    jb .page
    mov [0x10000], esi
    jmp .sweep
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff            ; code: base 0, limit 4 GiB, 32-bit, execute/read
    dq 0x00cf92000000ffff            ; data: base 0, limit 4 GiB, 32-bit, read/write
gdt_descriptor:
    dw gdt_descriptor - gdt - 1
    dd gdt
times 510-($-$$) db 0
dw 0xaa55
