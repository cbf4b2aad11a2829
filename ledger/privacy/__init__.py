"""Personal data: per-subject sealing (AES-GCM under per-subject keys) and crypto-shredding."""
