"""Hardware in the loop over Modbus TCP: real (or simulated) meters and relays mapped onto twin entities.

``table`` the ``[[devices]]`` schema; ``registers`` value <-> register encoding; ``link`` one device's client
(timeouts, faults, backoff); ``meter`` a device meter in place of a virtual one; ``actuator`` a relay or
set-point driven by a command source; ``bridge`` the polling processes; ``pacing`` the real-time clock and
its missed-deadline counter; ``simdevices`` and ``simulator`` the device simulator; ``cli`` ``gridledger
devices``. Over MQTT: ``mqtt_table`` the topics and payload fields per point, ``mqtt_link`` the paho client with the
Modbus link's interface, ``mqtt_broker`` an embedded amqtt broker on 127.0.0.1, ``mqtt_simulator`` simulated
Tasmota plugs. Importing this package imports nothing heavy (pymodbus is loaded by ``link`` and ``simulator``,
paho and amqtt by the MQTT modules).
"""
