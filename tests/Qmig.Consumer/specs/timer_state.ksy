meta:
  id: timer_state
  endian: be
doc: A device's saved timer, as this VMM writes it into its own device state.
types:
  timer_state:
    doc: The deadline and the period of one timer.
    seq:
      - id: deadline_ns
        type: u8
        doc: Absolute deadline, in nanoseconds of the guest's clock.
      - id: period_ns
        type: u4
        doc: Zero for a one-shot timer.
