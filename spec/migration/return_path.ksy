meta:
  id: return_path
  title: QEMU live-migration return-path messages (destination to source)
  ks-version: '0.11'
  endian: be
doc: |
  Messages the destination sends to the source on the return path, as QEMU 7.2 and 10.2 write
  them. The return path is opened by the OPEN_RETURN_PATH command (postcopy-ram or return-path
  capability) and has no header: it is a sequence of `rp_message`s. After a RECV_BITMAP message
  the raw `recv_bitmap_blob` follows, outside the message's length. The source reads a message
  into a 512-byte buffer, rejects type 0 and types at or above its MIG_RP_MSG_MAX (7 in 7.2, 8
  in 10.2), and rejects any other length for the fixed-length types.
doc-ref: QEMU 7.2 and 10.2 migration/migration.c, source_return_path_thread() and rp_cmd_args[]; migration/savevm.c, migrate_send_rp_*()
types:
  rp_message:
    doc: |
      One return-path message: type, payload length and payload. The payload is a slice of
      exactly len_payload bytes, read by the type's payload record.
    seq:
      - id: msg_type
        type: u2
        enum: mig_rp_msg
        doc: The message type.
      - id: len_payload
        type: u2
        valid:
          max: 512
        doc: |
          Length of the payload in bytes; the source rejects more than 512. Fixed per type:
          SHUT, PONG and RESUME_ACK 4, REQ_PAGES 12, REQ_PAGES_ID 13 + name length,
          SWITCHOVER_ACK 0, RECV_BITMAP 1 + name length.
      - id: payload
        size: len_payload
        type:
          switch-on: msg_type
          cases:
            mig_rp_msg::shut: shut
            mig_rp_msg::pong: pong
            mig_rp_msg::req_pages_id: req_pages_id
            mig_rp_msg::req_pages: req_pages
            mig_rp_msg::recv_bitmap: rp_recv_bitmap
            mig_rp_msg::resume_ack: resume_ack
        doc: The message's payload (empty for SWITCHOVER_ACK).

  shut:
    doc: |
      SHUT payload (length 4), sent when the destination tears down its incoming state; the
      source's return-path thread stops.
    seq:
      - id: status
        type: u4
        doc: 0 when the destination finished successfully, non-zero on error.

  pong:
    doc: |
      PONG payload (length 4), the answer to a PING command. In 10.2, PONG 0x42 moves the source
      from postcopy-device to postcopy-active.
    seq:
      - id: value
        type: u4
        doc: The value of the PING being answered.

  req_pages_id:
    doc: |
      REQ_PAGES_ID payload (length 13 + name length, exact): postcopy page request naming the
      RAM block; sent for the first request and whenever the block differs from the previous
      request's.
    seq:
      - id: start
        type: u8
        doc: Start of the requested range in bytes from the start of the block (host-page aligned).
      - id: length
        type: u4
        doc: Length of the requested range in bytes (the destination block's page size).
      - id: len_block_name
        type: u1
        doc: Length of the RAM block name.
      - id: block_name
        size: len_block_name
        doc: RAMBlock idstr; becomes the block of later REQ_PAGES messages.

  req_pages:
    doc: |
      REQ_PAGES payload (length 12): postcopy page request in the same block as the previous
      request (an error if there was none).
    seq:
      - id: start
        type: u8
        doc: Start of the requested range in bytes from the start of the block (host-page aligned).
      - id: length
        type: u4
        doc: Length of the requested range in bytes (the destination block's page size).

  rp_recv_bitmap:
    doc: |
      RECV_BITMAP payload, the answer to the RECV_BITMAP command during postcopy recovery. The
      bitmap itself follows the message, outside len_payload, as a `recv_bitmap_blob`. A robust
      reader requires len_payload == 1 + len_block_name.
    seq:
      - id: len_block_name
        type: u1
        doc: Length of the RAM block name.
      - id: block_name
        size: len_block_name
        doc: RAMBlock idstr the bitmap belongs to.

  resume_ack:
    doc: |
      RESUME_ACK payload (length 4), the answer to POSTCOPY_RESUME; the source goes to
      postcopy-active.
    seq:
      - id: value
        type: u4
        valid: 1
        doc: Always 1 (MIGRATION_RESUME_ACK_VALUE).

  recv_bitmap_blob:
    doc: |
      The received-pages bitmap that follows an RP RECV_BITMAP message, outside its length. A set
      bit means the destination already has the page. The size must equal the source's own
      bitmap size for the block.
    doc-ref: QEMU migration/ram.c, ram_dirty_bitmap_reload() and ramblock_recv_bitmap_send()
    seq:
      - id: len_bitmap
        type: u8
        doc: |
          Size of the bitmap in bytes: ceil(nbits / 8) rounded up to a multiple of 8, where
          nbits = block length / target page size.
      - id: bitmap
        size: len_bitmap
        doc: |
          The bitmap in little-endian bit order: bit i is bit (i % 8) of byte i / 8 (an array of
          little-endian u64 words).
      - id: end_marker
        type: u8
        valid: '0x0123456789ABCDEF'
        doc: End marker, always 0x0123456789ABCDEF (RAMBLOCK_RECV_BITMAP_ENDING).
        -orig-id: RAMBLOCK_RECV_BITMAP_ENDING

enums:
  mig_rp_msg:
    0:
      id: invalid
      doc: Never valid on the wire; rejected.
      -orig-id: MIG_RP_MSG_INVALID
    1:
      id: shut
      doc: The destination is shutting down its side. Payload `shut` (4 bytes).
      -orig-id: MIG_RP_MSG_SHUT
    2:
      id: pong
      doc: Answer to a PING command. Payload `pong` (4 bytes).
      -orig-id: MIG_RP_MSG_PONG
    3:
      id: req_pages_id
      doc: Postcopy page request naming the block. Payload `req_pages_id` (13 + name length).
      -orig-id: MIG_RP_MSG_REQ_PAGES_ID
    4:
      id: req_pages
      doc: Postcopy page request in the previous request's block. Payload `req_pages` (12 bytes).
      -orig-id: MIG_RP_MSG_REQ_PAGES
    5:
      id: recv_bitmap
      doc: |
        Answer to the RECV_BITMAP command. Payload `rp_recv_bitmap`; a `recv_bitmap_blob` follows
        the message.
      -orig-id: MIG_RP_MSG_RECV_BITMAP
    6:
      id: resume_ack
      doc: Answer to POSTCOPY_RESUME. Payload `resume_ack` (4 bytes).
      -orig-id: MIG_RP_MSG_RESUME_ACK
    7:
      id: switchover_ack
      doc: |
        10.x only (8.1 and later, switchover-ack capability): the destination's devices agree to
        switch over. Empty payload.
      -orig-id: MIG_RP_MSG_SWITCHOVER_ACK
