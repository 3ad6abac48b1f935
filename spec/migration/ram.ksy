meta:
  id: ram_section
  title: QEMU live-migration RAM section records ("ram", version 4)
  ks-version: '0.11'
  endian: be
  -qmig-flags: [ram_save_flag]
doc: |
  Records of the body of QEMU's RAM section (idstr "ram", instance 0, section version 4; every
  START/PART/END section of it), as QEMU 7.2 and 10.2 write them. The same records travel on
  the postcopy preempt channel. A body is a sequence of `ram_record`s and ends with one whose
  flags contain EOS. The first record of the START section is MEM_SIZE, followed by the RAM
  block list (`ram_block_entry`, with a `mapped_ram_header` after each entry when the
  mapped-ram capability is on); the list ends when the sum of the used lengths reaches the
  MEM_SIZE record's offset (there is no end marker).
doc-ref: QEMU 7.2 and 10.2 migration/ram.c, ram_save_setup(), save_page_header(), ram_load_precopy() and ram_load_postcopy()
types:
  ram_record:
    doc: |
      One RAM record: a 64-bit word holding a page-aligned offset and the flags in its low bits,
      then the data its kind requires. The destination switches on the flags without CONTINUE,
      so exactly one kind flag may be set, optionally with CONTINUE; any other combination is
      invalid (7.2 treats an unmatched combination that includes HOOK as an RDMA hook). MEM_SIZE,
      EOS, MULTIFD_FLUSH and HOOK records are the word alone (MEM_SIZE is followed by the block
      list, which the stream reader reads as `ram_block_entry` records).
    doc-ref: QEMU migration/ram.c, save_page_header() and ram_load_precopy()
    params:
      - id: target_page_size
        type: u4
        doc: |
          Target page size in bytes (4096 on x86); the length of a PAGE record's data. It is
          not in the record: it comes from the target, the configuration's target-page-bits or
          the VMDESCRIPTION's page_size.
    seq:
      - id: addr_flags
        type: u8
        doc: |
          Offset in the block (or, for MEM_SIZE, the total of all block lengths) OR-ed with the
          RAM_SAVE_FLAG_* flags. The offset is target-page aligned and every flag is below
          0x400, so the low 10 bits are flags whatever the target page size.
      - id: len_block_id
        type: u1
        if: has_block_id
        doc: Length of the RAM block id; present when the block is named (CONTINUE clear).
      - id: block_id
        size: len_block_id
        if: has_block_id
        doc: |
          RAMBlock idstr, e.g. "pc.ram"; becomes the channel's current block, which records
          with CONTINUE reuse (also across section boundaries).
      - id: fill
        type: u1
        if: is_zero
        doc: |
          Byte the page is filled with. The source always writes 0; 7.2 accepts any value,
          10.2 rejects a non-zero one.
      - id: page
        size: target_page_size
        if: is_page
        -qmig-sent-apart: true
        doc: The page's contents, target_page_size raw bytes.
      - id: xbzrle_encoding
        type: u1
        valid: 1
        if: is_xbzrle
        doc: XBZRLE encoding flag; only 1 (ENCODING_FLAG_XBZRLE) is accepted.
      - id: len_xbzrle
        type: u2
        valid:
          max: target_page_size
        if: is_xbzrle
        doc: Length of the encoded delta; at most the target page size.
      - id: xbzrle_data
        size: len_xbzrle
        if: is_xbzrle
        doc: |
          XBZRLE delta, applied in place to the destination's current copy of the page:
          alternating runs of (ULEB128 count of unchanged bytes, ULEB128 count k + k literal
          bytes), counts limited to 2 bytes (0x3FFF).
      - id: len_compressed
        type: u4
        if: is_compress
        doc: Length of the zlib data (7.2 only); at most compressBound(target page size).
      - id: compressed
        size: len_compressed
        if: is_compress
        doc: A complete zlib stream that inflates to one page (7.2 only).
    instances:
      flags:
        value: addr_flags & 0x3ff
        enum: ram_save_flag
        doc: The flags (low 10 bits of addr_flags), a combination of ram_save_flag bits.
      offset:
        value: addr_flags - (addr_flags & 0x3ff)
        doc: |
          The offset in the current block (MEM_SIZE: the total of all used lengths), i.e.
          addr_flags without the flag bits.
      is_continue:
        value: (addr_flags & 0x20) != 0
        doc: CONTINUE is set; the record reuses the channel's current block.
      is_zero:
        value: (addr_flags & 0x3df) == 0x2
        doc: The record is a ZERO record (kind ZERO, CONTINUE ignored).
      is_page:
        value: (addr_flags & 0x3df) == 0x8
        doc: The record is a PAGE record (kind PAGE, CONTINUE ignored).
      is_xbzrle:
        value: (addr_flags & 0x3df) == 0x40
        doc: The record is an XBZRLE record (kind XBZRLE, CONTINUE ignored).
      is_compress:
        value: (addr_flags & 0x3df) == 0x100
        doc: The record is a COMPRESS_PAGE record (kind COMPRESS_PAGE, 7.2 only, CONTINUE ignored).
      has_block_id:
        value: not is_continue and (is_zero or is_page or is_xbzrle or is_compress)
        doc: A block id follows the word (a page-carrying kind with CONTINUE clear).

  ram_block_entry:
    doc: |
      One entry of the RAM block list that follows the MEM_SIZE record in the START section.
      Which optional fields are present is not in the entry: page_size depends on postcopy-ram
      and on the block's page size, mr_addr on the x-ignore-shared capability.
    doc-ref: QEMU migration/ram.c, ram_save_setup() and parse_ramblock()
    params:
      - id: has_page_size
        type: bool
        doc: |
          The entry carries the block's page size: postcopy-ram is on and the block's page size
          differs from the host page size (10.2: from max(host, target) page size). A passive
          reader can infer it only from the POSTCOPY_ADVISE page-size summary.
      - id: has_mr_addr
        type: bool
        doc: The entry carries the block's guest-physical address (x-ignore-shared is on).
    seq:
      - id: len_idstr
        type: u1
        doc: Length of the RAM block id.
      - id: idstr
        size: len_idstr
        doc: RAMBlock idstr, e.g. "pc.ram", "/rom@etc/acpi/tables".
      - id: used_length
        type: u8
        doc: Used length of the block in bytes; the list ends when these add up to the total.
      - id: page_size
        type: u8
        if: has_page_size
        doc: The block's page size in bytes (e.g. 2 MiB for a huge-page backed block).
      - id: mr_addr
        type: u8
        if: has_mr_addr
        doc: Guest-physical address of the block's MemoryRegion (x-ignore-shared).

  mapped_ram_header:
    doc: |
      mapped-ram header (10.x, `file:` migration with the mapped-ram capability), written after
      each `ram_block_entry`. The source then seeks: the file holds per block a bitmap region
      (native unsigned-long words, little-endian on x86-64) and a 1 MiB aligned pages region.
    doc-ref: QEMU 10.2 migration/ram.c, MappedRamHeader, mapped_ram_setup_ramblock() and parse_ramblock_mapped_ram()
    seq:
      - id: version
        type: u4
        valid:
          max: 1
        doc: Header version; the source writes 1 (MAPPED_RAM_HDR_VERSION), 10.2 accepts up to 1.
      - id: page_size
        type: u8
        doc: Page size of the pages region in bytes (the target page size).
      - id: bitmap_offset
        type: u8
        doc: File offset of the block's bitmap of pages present (one bit per page).
      - id: pages_offset
        type: u8
        doc: File offset of the block's pages region; page i is at pages_offset + i * page_size.

enums:
  ram_save_flag:
    0x1:
      id: full
      doc: Obsolete since 2009; never sent and rejected.
      -orig-id: RAM_SAVE_FLAG_FULL
    0x2:
      id: zero
      doc: |
        Page filled with one byte (formerly "COMPRESS"): optional block id, then the fill byte.
      -orig-id: RAM_SAVE_FLAG_ZERO
    0x4:
      id: mem_size
      doc: |
        First record of the START section: offset = total used length of all blocks; the RAM
        block list follows.
      -orig-id: RAM_SAVE_FLAG_MEM_SIZE
    0x8:
      id: page
      doc: Raw page; optional block id, then target-page-size bytes.
      -orig-id: RAM_SAVE_FLAG_PAGE
    0x10:
      id: eos
      doc: End of this section's RAM body; the word alone.
      -orig-id: RAM_SAVE_FLAG_EOS
    0x20:
      id: continue_block
      doc: |
        Modifier; the block id is omitted and the channel's current block is reused. (The id is
        not `continue`, a keyword in several Kaitai target languages.)
      -orig-id: RAM_SAVE_FLAG_CONTINUE
    0x40:
      id: xbzrle
      doc: XBZRLE delta against the destination's copy; optional block id, then the delta.
      -orig-id: RAM_SAVE_FLAG_XBZRLE
    0x80:
      id: hook
      doc: RDMA only; the data travels over RDMA, the word alone is in the stream.
      -orig-id: RAM_SAVE_FLAG_HOOK
    0x100:
      id: compress_page
      doc: zlib-compressed page (7.2 only; removed in 9.1); optional block id, u4 length, data.
      -orig-id: RAM_SAVE_FLAG_COMPRESS_PAGE
    0x200:
      id: multifd_flush
      doc: |
        10.x only: the destination waits for all multifd channels' SYNC; the word alone.
      -orig-id: RAM_SAVE_FLAG_MULTIFD_FLUSH
