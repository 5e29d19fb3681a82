"""Hardware in the loop over Modbus TCP: real (or simulated) meters and relays mapped onto twin entities.

``table`` the ``[[devices]]`` schema; ``registers`` value <-> register encoding; ``link`` one device's client
(timeouts, faults, backoff); ``meter`` a device meter in place of a virtual one; ``actuator`` a relay or
set-point driven by a command source; ``bridge`` the polling processes; ``pacing`` the real-time clock and
its missed-deadline counter; ``simdevices`` and ``simulator`` the device simulator; ``cli`` ``gridledger
devices``. Importing this package imports nothing heavy (pymodbus is loaded by ``link`` and ``simulator``).
"""
