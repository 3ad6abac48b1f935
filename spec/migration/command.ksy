meta:
  id: migration_command
  title: QEMU live-migration command records (QEMU_VM_COMMAND)
  ks-version: '0.11'
  endian: be
doc: |
  Command records (type byte 0x08) of QEMU's main migration stream, as QEMU 7.2 and 10.2 write
  them. A command may appear anywhere in the section loop of the main stream and of a packaged
  sub-stream. Its payload has an explicit 16-bit length; the destination rejects cmd 0 and cmd
  values at or above its MIG_CMD_MAX (11 in 7.2, 12 in 10.2), and rejects any other length for
  the fixed-length commands (OPEN_RETURN_PATH, POSTCOPY_LISTEN, POSTCOPY_RUN, ENABLE_COLO,
  POSTCOPY_RESUME and SWITCHOVER_START: 0; PING and PACKAGED: 4; POSTCOPY_ADVISE: 0 or 16).
doc-ref: QEMU 7.2 and 10.2 migration/savevm.c, qemu_savevm_command_send() and loadvm_process_command()
types:
  command:
    doc: |
      One command record: type byte 0x08, command number, payload length and payload. The
      payload is a slice of exactly len_payload bytes; the commands that have a payload are
      read from it by their payload type. For PACKAGED the packaged sub-stream follows the
      record, outside len_payload.
    seq:
      - id: section_type
        contents: [0x08]
        doc: QEMU_VM_COMMAND.
      - id: cmd
        type: u2
        enum: mig_cmd
        doc: The command number.
      - id: len_payload
        type: u2
        doc: Length of the payload in bytes (so every payload is shorter than 64 KiB).
      - id: payload
        size: len_payload
        type:
          switch-on: cmd
          cases:
            mig_cmd::ping: ping
            mig_cmd::postcopy_advise: postcopy_advise(len_payload)
            mig_cmd::postcopy_ram_discard: postcopy_ram_discard
            mig_cmd::packaged: packaged
            mig_cmd::recv_bitmap: recv_bitmap
        doc: |
          The command's payload. Commands without a case here (OPEN_RETURN_PATH,
          POSTCOPY_LISTEN, POSTCOPY_RUN, ENABLE_COLO, POSTCOPY_RESUME, SWITCHOVER_START) have
          an empty payload.

  ping:
    doc: |
      PING payload (length 4). The destination answers with a return-path PONG carrying the
      same value; it is an error if no return path is open. QEMU sends 1 after
      OPEN_RETURN_PATH, 2 before the package, 3 inside the package after the device state,
      0x42 inside the package when a return path exists (10.2, QEMU_VM_PING_PACKAGED_LOADED) and
      4 after the package.
    seq:
      - id: value
        type: u4
        doc: Opaque value echoed by the PONG.

  postcopy_advise:
    doc: |
      POSTCOPY_ADVISE payload: empty when only dirty bitmaps use postcopy, 16 bytes when the
      postcopy-ram capability is on. The destination rejects a 0-byte ADVISE when it has
      postcopy-ram on, a 16-byte one when it has not, and any other length.
    params:
      - id: len_payload
        type: u2
        doc: Length of the payload (the command's len_payload); 0 or 16.
    seq:
      - id: host_page_sizes
        type: u8
        if: len_payload == 16
        doc: |
          Bitwise OR of the page sizes of all migrated RAM blocks (e.g. 0x1000, or 0x201000 with
          2 MiB huge pages). Must equal the destination's own summary. It is the only in-band
          hint about which RAM blocks carry a page size in the RAM block list.
      - id: target_page_size
        type: u8
        if: len_payload == 16
        doc: Target page size in bytes; must equal the destination's.

  postcopy_ram_discard:
    -qmig-sized: true
    doc: |
      POSTCOPY_RAM_DISCARD payload: pages of one RAM block that the destination must discard
      (mark as not received) before postcopy starts. The length must be at least 20 and the
      ranges must fill the rest exactly (a multiple of 16 bytes). The source sends at most 12
      ranges per command; the destination does not enforce that.
    seq:
      - id: version
        type: u1
        valid: 0
        doc: Format version; only 0 is accepted.
      - id: len_block_name
        type: u1
        doc: |
          Length of the RAM block name. (QEMU itself uses strlen() of the name it read, so an
          embedded NUL desynchronises it; a robust reader rejects embedded NULs.)
      - id: block_name
        size: len_block_name
        doc: RAMBlock idstr, e.g. "pc.ram".
      - id: terminator
        contents: [0x00]
        doc: Mandatory NUL after the block name.
      - id: ranges
        type: discard_range
        repeat: eos
        doc: The ranges to discard, up to the end of the payload.

  discard_range:
    doc: |
      One range of a POSTCOPY_RAM_DISCARD command. The source computes ranges in target pages
      and multiplies by the target page size; the destination requires start and length to be
      aligned to the block's page size and start + length to lie within the block.
    seq:
      - id: start
        type: u8
        doc: Start of the range in bytes from the start of the RAM block.
      - id: length
        type: u8
        doc: Length of the range in bytes.

  packaged:
    doc: |
      PACKAGED payload (length 4). The packaged bytes follow the command record, outside its
      len_payload: len_package bytes of a nested section list in the main stream's format
      without header, configuration or EOF (QEMU's package holds POSTCOPY_LISTEN, FULL
      sections, PING 3, [PING 0x42,] POSTCOPY_RUN, and the RUN command ends it). The
      destination allocates and reads all len_package bytes first.
    seq:
      - id: len_package
        type: u4
        doc: |
          Length of the packaged sub-stream that follows the command (at most UINT32_MAX,
          MAX_VM_CMD_PACKAGED_SIZE); a reader should impose a smaller cap.

  recv_bitmap:
    doc: |
      RECV_BITMAP payload (postcopy recovery): asks the destination for its received-pages
      bitmap of one RAM block. len_payload must equal 1 + len_block_name. The destination
      answers on the return path with a RECV_BITMAP message followed by a recv_bitmap_blob.
    seq:
      - id: len_block_name
        type: u1
        valid:
          min: 1
        doc: Length of the RAM block name; 0 is rejected.
      - id: block_name
        size: len_block_name
        doc: RAMBlock idstr; the block must exist on the destination.

enums:
  mig_cmd:
    0:
      id: invalid
      doc: Never valid on the wire; rejected.
      -orig-id: MIG_CMD_INVALID
    1:
      id: open_return_path
      doc: Tells the destination to open the return path. Empty payload.
      -orig-id: MIG_CMD_OPEN_RETURN_PATH
    2:
      id: ping
      doc: Request for a PONG on the return path. Payload `ping` (4 bytes).
      -orig-id: MIG_CMD_PING
    3:
      id: postcopy_advise
      doc: Announces that postcopy may happen. Payload `postcopy_advise` (0 or 16 bytes).
      -orig-id: MIG_CMD_POSTCOPY_ADVISE
    4:
      id: postcopy_listen
      doc: The destination starts its listen thread, which takes over the main stream. Empty payload.
      -orig-id: MIG_CMD_POSTCOPY_LISTEN
    5:
      id: postcopy_run
      doc: The destination starts running the guest; ends a packaged sub-stream. Empty payload.
      -orig-id: MIG_CMD_POSTCOPY_RUN
    6:
      id: postcopy_ram_discard
      doc: Pages of one RAM block to discard before postcopy. Payload `postcopy_ram_discard`.
      -orig-id: MIG_CMD_POSTCOPY_RAM_DISCARD
    7:
      id: packaged
      doc: A packaged sub-stream follows the record. Payload `packaged` (4 bytes).
      -orig-id: MIG_CMD_PACKAGED
    8:
      id: enable_colo
      doc: Switches the destination to COLO after the initial migration. Empty payload.
      -orig-id: MIG_CMD_ENABLE_COLO
    9:
      id: postcopy_resume
      doc: Resumes a paused postcopy after recovery; answered with RP RESUME_ACK. Empty payload.
      -orig-id: MIG_CMD_POSTCOPY_RESUME
    10:
      id: recv_bitmap
      doc: Asks for the received bitmap of one RAM block during recovery. Payload `recv_bitmap`.
      -orig-id: MIG_CMD_RECV_BITMAP
    11:
      id: switchover_start
      doc: |
        Sent right before the final device state (10.0 and later; in 7.2 the value 11 is
        MIG_CMD_MAX and rejected). Empty payload.
      -orig-id: MIG_CMD_SWITCHOVER_START
