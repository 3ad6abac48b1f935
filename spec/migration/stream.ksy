meta:
  id: migration_stream
  title: QEMU live-migration main stream (framing records)
  file-extension: mig
  ks-version: '0.11'
  endian: be
doc: |
  The records that frame QEMU's main migration stream (source to destination), as QEMU 7.2 and
  10.2 write them: the file header, the configuration record and its subsections, the section
  headers and footers, the EOF byte and the VMDESCRIPTION JSON that follows it.

  The stream is a sequence of records, each starting with a type byte (`vm_section_type`). This
  file describes every record as a flat type of its own; the stream reader reads the type byte
  and dispatches itself, because a section body (device state, `ram_section` records) has no
  length on the wire and cannot be described here. Commands (type byte 0x08) are in
  `migration_command`, RAM section bodies in `ram_section`.

  All multi-byte integers are big-endian. Names and strings are counted byte strings without a
  NUL terminator and without a guaranteed encoding.
doc-ref: QEMU 7.2 and 10.2 migration/savevm.c (qemu_savevm_state_*, qemu_loadvm_state_main) and migration/vmstate.c
types:
  file_header:
    doc: |
      The first 8 bytes of a main stream: magic "QEVM" and the file version. The configuration
      record usually follows at offset 8. A stream resumed after postcopy recovery, and a
      packaged sub-stream, carry no header.
    doc-ref: QEMU migration/savevm.c, qemu_savevm_state_header() and qemu_loadvm_state()
    seq:
      - id: magic
        contents: [0x51, 0x45, 0x56, 0x4d]
        doc: QEMU_VM_FILE_MAGIC (0x5145564D, ASCII "QEVM").
        -orig-id: QEMU_VM_FILE_MAGIC
      - id: version
        type: u4
        valid: 3
        doc: |
          File version; only 3 (QEMU_VM_FILE_VERSION) is accepted. Version 2
          (QEMU_VM_FILE_VERSION_COMPAT) is recognised only to be rejected as obsolete.
        -orig-id: QEMU_VM_FILE_VERSION

  configuration:
    doc: |
      Configuration record (type 0x07) at offset 8, present when the source's
      `send-configuration` property is on (the default). It is the vmstate `configuration`
      (loaded as version 0): the machine type name, then zero or more subsections
      (`subsection_header` + `config_target_page_bits`, `config_capabilities` or `config_uuid`
      body). It has no section id and no footer.
    doc-ref: QEMU migration/savevm.c, vmstate_configuration and its subsections
    seq:
      - id: section_type
        contents: [0x07]
        doc: QEMU_VM_CONFIGURATION.
      - id: len_name
        type: u4
        doc: |
          Length of the machine type name. QEMU allocates it without a bound; a reader should
          cap it.
      - id: name
        size: len_name
        doc: Machine type name, e.g. "pc-i440fx-7.2", without NUL terminator.

  subsection_header:
    doc: |
      Header of a vmstate subsection (type 0x05), which follows the fields of its parent vmstate
      (a device body, or the configuration record). The name must start with the parent's
      vmstate name and is by convention "parent/child", e.g. "configuration/uuid". The
      subsection body follows; its length is not on the wire. Never valid at the top level of
      the section loop.
    doc-ref: QEMU migration/vmstate.c, vmstate_subsection_save() and vmstate_subsection_load()
    seq:
      - id: section_type
        contents: [0x05]
        doc: QEMU_VM_SUBSECTION.
      - id: len_name
        type: u1
        doc: Length of the subsection name.
      - id: name
        size: len_name
        doc: Subsection (vmstate) name, e.g. "configuration/capabilities".
      - id: version_id
        type: u4
        doc: |
          Version of the subsection's vmstate. QEMU reads it into a u8, so versions above 255
          silently truncate on the destination.

  config_target_page_bits:
    doc: |
      Body of the "configuration/target-page-bits" subsection (version 1). Sent only when the
      target page size is larger than the target's legacy minimum (never on x86).
    doc-ref: QEMU migration/savevm.c, vmstate_configuration and its subsections
    seq:
      - id: target_page_bits
        type: u4
        doc: log2 of the target page size; must equal the destination's.

  config_capabilities:
    doc: |
      Body of the "configuration/capabilities" subsection (version 1): the validated
      migration capabilities that are on at the source. 7.2 validates only x-ignore-shared,
      10.2 also mapped-ram. Sent only when at least one of them is on.
    doc-ref: QEMU migration/savevm.c, vmstate_configuration and its subsections
    seq:
      - id: num_caps
        type: u4
        doc: Number of capability names that follow. A reader should cap it.
      - id: caps
        type: capability_name
        repeat: expr
        repeat-expr: num_caps
        doc: The names of the capabilities that are on.

  capability_name:
    doc: One capability name in `config_capabilities`, a counted string.
    seq:
      - id: len_name
        type: u1
        doc: Length of the capability name.
      - id: name
        size: len_name
        doc: QAPI name of the capability, e.g. "x-ignore-shared" or "mapped-ram".

  config_uuid:
    doc: |
      Body of the "configuration/uuid" subsection (version 1). Sent only when the source has
      `-uuid` set and the `validate-uuid` capability is on.
    doc-ref: QEMU migration/savevm.c, vmstate_configuration and its subsections
    seq:
      - id: uuid
        size: 16
        doc: The source VM's UUID (raw 16 bytes).

  section_header_start_full:
    doc: |
      Header of a START (0x01, first chunk of an iterative device such as "ram") or FULL (0x04,
      complete state of a non-iterative device) section. The body follows without a length,
      then a `section_footer` when the source's `send-section-footer` is on (the default).
      (idstr, instance_id) identify the device; section_id names it for later PART/END sections
      of the same stream.
    doc-ref: QEMU migration/savevm.c, save_section_header(), save_section_footer(), qemu_loadvm_section_start_full()
    seq:
      - id: section_type
        type: u1
        enum: vm_section_type
        valid:
          any-of:
            - vm_section_type::section_start
            - vm_section_type::section_full
        doc: QEMU_VM_SECTION_START or QEMU_VM_SECTION_FULL.
      - id: section_id
        type: u4
        doc: |
          Source's registration index of the device; unique within one stream, neither
          contiguous nor sorted.
      - id: len_idstr
        type: u1
        valid:
          min: 1
        doc: Length of the device id string; 0 is rejected by the loader.
      - id: idstr
        size: len_idstr
        doc: Device id string, e.g. "ram", "cpu", "0000:00:01.1/ide", "timer".
      - id: instance_id
        type: u4
        doc: Distinguishes devices with the same idstr (0, 1, 2, ...).
      - id: version_id
        type: u4
        doc: |
          Version the body was written with; must not exceed the destination's version for
          this idstr. The RAM section is always version 4.

  section_header_part_end:
    doc: |
      Header of a PART (0x02) or END (0x03) section, a further or the last chunk of an
      iterative device. section_id must equal the id of an earlier START in the same stream.
      The body follows without a length, then a `section_footer` when footers are on.
    doc-ref: QEMU migration/savevm.c, save_section_header(), save_section_footer(), qemu_loadvm_section_start_full()
    seq:
      - id: section_type
        type: u1
        enum: vm_section_type
        valid:
          any-of:
            - vm_section_type::section_part
            - vm_section_type::section_end
        doc: QEMU_VM_SECTION_PART or QEMU_VM_SECTION_END.
      - id: section_id
        type: u4
        doc: Id of the START section this chunk belongs to.

  section_footer:
    doc: |
      Footer (0x7E) after every START/PART/END/FULL body when the source's
      `send-section-footer` property is on (the default except Xen and 7.2 machine types up to
      2.3). It is the only in-band check that a body was parsed to its exact end.
    doc-ref: QEMU migration/savevm.c, save_section_header(), save_section_footer(), qemu_loadvm_section_start_full()
    seq:
      - id: section_type
        contents: [0x7e]
        doc: QEMU_VM_SECTION_FOOTER.
      - id: section_id
        type: u4
        doc: Must equal the section_id of the header this footer closes.

  end_of_sections:
    doc: |
      The EOF byte (0x00) that ends the section list of a main stream. In a precopy stream a
      `vm_description` follows unless the machine suppresses it; a postcopy stream ends here.
      A packaged sub-stream has no EOF (its POSTCOPY_RUN command ends it).
    doc-ref: QEMU migration/savevm.c, qemu_loadvm_state_main()
    seq:
      - id: section_type
        contents: [0x00]
        doc: QEMU_VM_EOF.

  vm_description:
    doc: |
      VMDESCRIPTION record (0x06) that follows the EOF byte: a single-line JSON text that
      describes every FULL section's fields (`page_size`, `devices`, and in 10.2 a leading
      `configuration`). The destination reads and discards it; it is never validated.
    doc-ref: QEMU migration/savevm.c, where QEMU_VM_VMDESCRIPTION is written and skipped
    seq:
      - id: section_type
        contents: [0x06]
        doc: QEMU_VM_VMDESCRIPTION.
      - id: len_json
        type: u4
        doc: Length of the JSON text in bytes.
      - id: json
        size: len_json
        doc: JSON text (UTF-8/ASCII), not NUL-terminated.

enums:
  vm_section_type:
    0x00:
      id: eof
      doc: End of the section list of the main stream; the VMDESCRIPTION may follow.
      -orig-id: QEMU_VM_EOF
    0x01:
      id: section_start
      doc: First chunk of an iterative (live) device, e.g. "ram"; full section header.
      -orig-id: QEMU_VM_SECTION_START
    0x02:
      id: section_part
      doc: Further chunk of an iterative device; short section header.
      -orig-id: QEMU_VM_SECTION_PART
    0x03:
      id: section_end
      doc: Last chunk of an iterative device; short section header.
      -orig-id: QEMU_VM_SECTION_END
    0x04:
      id: section_full
      doc: Complete state of a non-iterative device; full section header.
      -orig-id: QEMU_VM_SECTION_FULL
    0x05:
      id: subsection
      doc: Subsection header inside a vmstate body or the configuration; rejected at top level.
      -orig-id: QEMU_VM_SUBSECTION
    0x06:
      id: vmdescription
      doc: JSON device description; only right after the EOF byte.
      -orig-id: QEMU_VM_VMDESCRIPTION
    0x07:
      id: configuration
      doc: Configuration record; only at offset 8, right after the file header.
      -orig-id: QEMU_VM_CONFIGURATION
    0x08:
      id: command
      doc: Command record (see migration_command); anywhere in the section loop.
      -orig-id: QEMU_VM_COMMAND
    0x7e:
      id: section_footer
      doc: Footer after a section body, repeating its section id.
      -orig-id: QEMU_VM_SECTION_FOOTER
