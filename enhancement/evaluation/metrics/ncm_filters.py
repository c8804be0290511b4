"""NCM's 20 band-pass filters at 16 kHz as the official environment designs them.

``scipy.signal.butter(4, [lo, hi] * 2 / 16000, btype="bandpass")`` for the band edges of
``sepm._NCM_EDGES_16K``, computed with scipy 1.17.1 on numpy 1.26.4 (the environment of
the official numbers; pysepm is numpy-1-only). numpy 2 gives the same filters within
~1e-15 relative, but 8th-order narrow band-pass recursions amplify those last bits to
~1e-6 in NCM, so the designs are kept here as exact float hex. A test checks each
against scipy's design of today.
"""

# (b coefficients, a coefficients) per band, lowest band first; 9 + 9 floats as hex.
FILTERS_16K_HEX: tuple[tuple[str, str], ...] = (
    (
        (
            "0x1.20ff8a5c69a92p-25 0x0.0p+0 -0x1.20ff8a5c69a92p-23 "
            "0x0.0p+0 0x1.b17f4f8a9e7dbp-23 0x0.0p+0 "
            "-0x1.20ff8a5c69a92p-23 0x0.0p+0 0x1.20ff8a5c69a92p-25"
        ),
        (
            "0x1.0000000000000p+0 -0x1.f718f4bba93f9p+2 0x1.b1a12e3d6f6aep+4 "
            "-0x1.ac3324e13a884p+5 0x1.08ec0ee15c328p+6 -0x1.a49f658a5d66ep+5 "
            "0x1.a26b43a312582p+4 -0x1.dcdc2f15d8ad4p+2 0x1.dcb60f745a19bp-1"
        ),
    ),
    (
        (
            "0x1.f63438a09fcc7p-25 0x0.0p+0 -0x1.f63438a09fcc7p-23 "
            "0x0.0p+0 0x1.78a72a7877d95p-22 0x0.0p+0 "
            "-0x1.f63438a09fcc7p-23 0x0.0p+0 0x1.f63438a09fcc7p-25"
        ),
        (
            "0x1.0000000000000p+0 -0x1.f4443948cc85ap+2 0x1.ad4cfdefed5fbp+4 "
            "-0x1.a69675b82225dp+5 0x1.04f14e08c41d2p+6 -0x1.9e0089764c972p+5 "
            "0x1.9c08b2fa15644p+4 -0x1.d664033c0decbp+2 0x1.d7a49be5bd43ap-1"
        ),
    ),
    (
        (
            "0x1.b403315e2088fp-24 0x0.0p+0 -0x1.b403315e2088fp-22 "
            "0x0.0p+0 0x1.470265069866bp-21 0x0.0p+0 "
            "-0x1.b403315e2088fp-22 0x0.0p+0 0x1.b403315e2088fp-24"
        ),
        (
            "0x1.0000000000000p+0 -0x1.f07d34e95e7dap+2 0x1.a797bb6051a8fp+4 "
            "-0x1.9f4568df2ea12p+5 0x1.ffa12d9a5f046p+5 -0x1.95960be3905b1p+5 "
            "0x1.9410a5f256373p+4 -0x1.ce8e4e111e0adp+2 0x1.d1e1f673afd8fp-1"
        ),
    ),
    (
        (
            "0x1.7a35bf4cb2049p-23 0x0.0p+0 -0x1.7a35bf4cb2049p-21 "
            "0x0.0p+0 0x1.1ba84f7985837p-20 0x0.0p+0 "
            "-0x1.7a35bf4cb2049p-21 0x0.0p+0 0x1.7a35bf4cb2049p-23"
        ),
        (
            "0x1.0000000000000p+0 -0x1.eb7681a4d5bb1p+2 0x1.a0190a4df9075p+4 "
            "-0x1.95c6ca05dda48p+5 0x1.f27806b840d01p+5 -0x1.8aea5bcf0c117p+5 "
            "0x1.8a1f16191d4c6p+4 -0x1.c50bfea8adf4cp+2 0x1.cb58c77dc6734p-1"
        ),
    ),
    (
        (
            "0x1.47bcff59db5b4p-22 0x0.0p+0 -0x1.47bcff59db5b4p-20 "
            "0x0.0p+0 0x1.eb9b7f06c908ep-20 0x0.0p+0 "
            "-0x1.47bcff59db5b4p-20 0x0.0p+0 0x1.47bcff59db5b4p-22"
        ),
        (
            "0x1.0000000000000p+0 -0x1.e4cb37b37ac64p+2 0x1.964e976b129a6p+4 "
            "-0x1.8987d5ba8306ap+5 0x1.e1adb976c6f10p+5 -0x1.7d71e7e34e203p+5 "
            "0x1.7dbbfe067690bp+4 -0x1.b97cb8e96334ap+2 0x1.c3f20bacda0cdp-1"
        ),
    ),
    (
        (
            "0x1.1bac7263f3644p-21 0x0.0p+0 -0x1.1bac7263f3644p-19 "
            "0x0.0p+0 0x1.a982ab95ed166p-19 0x0.0p+0 "
            "-0x1.1bac7263f3644p-19 0x0.0p+0 0x1.1bac7263f3644p-21"
        ),
        (
            "0x1.0000000000000p+0 -0x1.dbf87b2ec949fp+2 0x1.8999372de7d16p+4 "
            "-0x1.79dce4ad2ef04p+5 0x1.cc6e6a96e3d3ep+5 -0x1.6c8d4e9ff6ab5p+5 "
            "0x1.6e5b56c7ce1dfp+4 -0x1.ab6c22f7079ccp+2 0x1.bb953fb01681ep-1"
        ),
    ),
    (
        (
            "0x1.ea6b4b3123b66p-21 0x0.0p+0 -0x1.ea6b4b3123b66p-19 "
            "0x0.0p+0 0x1.6fd07864dac8cp-18 0x0.0p+0 "
            "-0x1.ea6b4b3123b66p-19 0x0.0p+0 0x1.ea6b4b3123b66p-21"
        ),
        (
            "0x1.0000000000000p+0 -0x1.d055c28d1683bp+2 0x1.793cc69c69d6ap+4 "
            "-0x1.66079867e71b1p+5 0x1.b1d7264a2d5a0p+5 -0x1.579152e00a854p+5 "
            "0x1.5b60a47a10b98p+4 -0x1.9a4f99241c425p+2 0x1.b228acd0fb900p-1"
        ),
    ),
    (
        (
            "0x1.a748ceabbede1p-20 0x0.0p+0 -0x1.a748ceabbede1p-18 "
            "0x0.0p+0 0x1.3d769b00cf269p-17 0x0.0p+0 "
            "-0x1.a748ceabbede1p-18 0x0.0p+0 0x1.a748ceabbede1p-20"
        ),
        (
            "0x1.0000000000000p+0 -0x1.c10bf937d3891p+2 0x1.6465f134f3293p+4 "
            "-0x1.4d46b5378155dp+5 0x1.910eb9a98ef48p+5 -0x1.3dd8745c66fdbp+5 "
            "0x1.4428fca26e982p+4 -0x1.8585004a63b40p+2 0x1.a791dff7320d9p-1"
        ),
    ),
    (
        (
            "0x1.6cb6ed3f99747p-19 0x0.0p+0 -0x1.6cb6ed3f99747p-17 "
            "0x0.0p+0 0x1.118931efb3175p-16 0x0.0p+0 "
            "-0x1.6cb6ed3f99747p-17 0x0.0p+0 0x1.6cb6ed3f99747p-19"
        ),
        (
            "0x1.0000000000000p+0 -0x1.ad0c0a998c6a2p+2 0x1.4a3b18f36c698p+4 "
            "-0x1.2ef5484dfe705p+5 0x1.6972d3de579d6p+5 -0x1.1ee3168c84827p+5 "
            "0x1.281fefa7f6abep+4 -0x1.6c53e8ae6f182p+2 0x1.9bb6561282f78p-1"
        ),
    ),
    (
        (
            "0x1.39a33ae78f0c6p-18 0x0.0p+0 -0x1.39a33ae78f0c6p-16 "
            "0x0.0p+0 0x1.d674d85b56929p-16 0x0.0p+0 "
            "-0x1.39a33ae78f0c6p-16 0x0.0p+0 0x1.39a33ae78f0c6p-18"
        ),
        (
            "0x1.0000000000000p+0 -0x1.93062710f55adp+2 0x1.2a008b8c801b5p+4 "
            "-0x1.0abf1abddc20dp+5 0x1.3adfcf7a8db04p+5 -0x1.f515bcfab6e51p+4 "
            "0x1.06e5763679223p+4 -0x1.4df2e5811c7c0p+2 0x1.8e7c69da9da58p-1"
        ),
    ),
    (
        (
            "0x1.0d1e506b558d7p-17 0x0.0p+0 -0x1.0d1e506b558d7p-15 "
            "0x0.0p+0 0x1.93ad78a100542p-15 0x0.0p+0 "
            "-0x1.0d1e506b558d7p-15 0x0.0p+0 0x1.0d1e506b558d7p-17"
        ),
        (
            "0x1.0000000000000p+0 -0x1.716471672deaap+2 0x1.035ba3a268c5cp+4 "
            "-0x1.c1da4025fbde1p+4 0x1.0614902fb9a22p+5 -0x1.a293c0d50e775p+4 "
            "0x1.c11890d40117ep+3 -0x1.2993f08c83bc9p+2 0x1.7fcc8f03f6162p-1"
        ),
    ),
    (
        (
            "0x1.ccaeb88510085p-17 0x0.0p+0 -0x1.ccaeb88510085p-15 "
            "0x0.0p+0 0x1.59830a63cc064p-14 0x0.0p+0 "
            "-0x1.ccaeb88510085p-15 0x0.0p+0 0x1.ccaeb88510085p-17"
        ),
        (
            "0x1.0000000000000p+0 -0x1.464e107976734p+2 0x1.ad85fb93310b5p+3 "
            "-0x1.6580bb46d9bccp+4 0x1.9a4cf6ef8d148p+4 -0x1.49139b9f9ea14p+4 "
            "0x1.6bee338403626p+3 -0x1.fcf7c1d47abaep+1 0x1.6f92e5df62f6ap-1"
        ),
    ),
    (
        (
            "0x1.893080984fc3bp-16 0x0.0p+0 -0x1.893080984fc3bp-14 "
            "0x0.0p+0 0x1.26e460723bd2cp-13 0x0.0p+0 "
            "-0x1.893080984fc3bp-14 0x0.0p+0 0x1.893080984fc3bp-16"
        ),
        (
            "0x1.0000000000000p+0 -0x1.0fbb505f70f36p+2 0x1.4c4f0bf63471dp+3 "
            "-0x1.0569ca368fcd2p+4 0x1.27c40925c5825p+4 -0x1.db52172d64279p+3 "
            "0x1.12a8c8453a034p+3 -0x1.985470a2f1256p+1 0x1.5dc12f19745e6p-1"
        ),
    ),
    (
        (
            "0x1.4e84537e44d7cp-15 0x0.0p+0 -0x1.4e84537e44d7cp-13 "
            "0x0.0p+0 0x1.f5c67d3d6743ap-13 0x0.0p+0 "
            "-0x1.4e84537e44d7cp-13 0x0.0p+0 0x1.4e84537e44d7cp-15"
        ),
        (
            "0x1.0000000000000p+0 -0x1.97520bb417c81p+1 0x1.d74784cf3926ep+2 "
            "-0x1.514bfb1a484a8p+3 0x1.7f720d6e30ba0p+3 -0x1.2e4f207a8b5eep+3 "
            "0x1.7a94537d194f2p+2 -0x1.252e9be77141cp+1 0x1.4a51210db9747p-1"
        ),
    ),
    (
        (
            "0x1.1b95260e49b29p-14 0x0.0p+0 -0x1.1b95260e49b29p-12 "
            "0x0.0p+0 0x1.a95fb9156e8bep-12 0x0.0p+0 "
            "-0x1.1b95260e49b29p-12 0x0.0p+0 0x1.1b95260e49b29p-14"
        ),
        (
            "0x1.0000000000000p+0 -0x1.e203a2bb71a3ap+0 0x1.35047deab593dp+2 "
            "-0x1.57c4069a4c346p+2 0x1.c04421daf3998p+2 -0x1.2f1b11bd5256ep+2 "
            "0x1.e08b000baf14dp+1 -0x1.4a37e7de83541p+0 0x1.354715deddb1bp-1"
        ),
    ),
    (
        (
            "0x1.dee28556c646fp-14 0x0.0p+0 -0x1.dee28556c646fp-12 "
            "0x0.0p+0 0x1.6729e40114b53p-11 0x0.0p+0 "
            "-0x1.dee28556c646fp-12 0x0.0p+0 0x1.dee28556c646fp-14"
        ),
        (
            "0x1.0000000000000p+0 -0x1.5d5038d046582p-2 0x1.bb9f685c32152p+1 "
            "-0x1.c33c8a8563848p-1 0x1.202eb30f12050p+2 -0x1.86739e1665511p-1 "
            "0x1.4c50936fe8ff8p+1 -0x1.c422c0dfc22f9p-3 0x1.1eb4fa4cb4aa7p-1"
        ),
    ),
    (
        (
            "0x1.928b466804275p-13 0x0.0p+0 -0x1.928b466804275p-11 "
            "0x0.0p+0 0x1.2de874ce031d8p-10 0x0.0p+0 "
            "-0x1.928b466804275p-11 0x0.0p+0 0x1.928b466804275p-13"
        ),
        (
            "0x1.0000000000000p+0 0x1.69ba58fd68cd3p+0 0x1.0584e69d4c9a0p+2 "
            "0x1.dd80946fbf8f2p+1 0x1.5fecc17308fb6p+2 0x1.944c94f4e3976p+1 "
            "0x1.77202ed733cf2p+1 0x1.b67a6a47ca52ep-1 0x1.06bd508095e54p-1"
        ),
    ),
    (
        (
            "0x1.50b3a986d8967p-12 0x0.0p+0 -0x1.50b3a986d8967p-10 "
            "0x0.0p+0 0x1.f90d7e4a44e1ap-10 0x0.0p+0 "
            "-0x1.50b3a986d8967p-10 0x0.0p+0 0x1.50b3a986d8967p-12"
        ),
        (
            "0x1.0000000000000p+0 0x1.a4844e06ad430p+1 0x1.d2f825be81bf3p+2 "
            "0x1.487af68f57f20p+3 0x1.63695c512da28p+3 0x1.0f2f4de2fd82dp+3 "
            "0x1.3e4067d80d7aap+2 0x1.d898a9a89b84ap+0 0x1.db2c0004a72f4p-2"
        ),
    ),
    (
        (
            "0x1.1818a795e2654p-11 0x0.0p+0 -0x1.1818a795e2654p-9 "
            "0x0.0p+0 0x1.a424fb60d397ep-9 0x0.0p+0 "
            "-0x1.1818a795e2654p-9 0x0.0p+0 0x1.1818a795e2654p-11"
        ),
        (
            "0x1.0000000000000p+0 0x1.454795155a2bbp+2 0x1.9b2785b3d66d3p+3 "
            "0x1.4506e248f9cdep+4 0x1.5d9ae4ecc28b7p+4 0x1.048ed1b453d09p+4 "
            "0x1.082f724d5333bp+3 0x1.4efb9886ff80bp+1 0x1.a7151d0586552p-2"
        ),
    ),
    (
        (
            "0x1.cf3d49fa6013bp-11 0x0.0p+0 -0x1.cf3d49fa6013bp-9 "
            "0x0.0p+0 0x1.5b6df77bc80ecp-8 0x0.0p+0 "
            "-0x1.cf3d49fa6013bp-9 0x0.0p+0 0x1.cf3d49fa6013bp-11"
        ),
        (
            "0x1.0000000000000p+0 0x1.9eb08a125dafcp+2 0x1.2d1c71e302aafp+4 "
            "0x1.ffbf89c986e0bp+4 0x1.163f240c6865ap+5 0x1.8c79d8289c792p+4 "
            "0x1.6989bb2dc6762p+3 0x1.8206cae35579dp+1 0x1.71fa8079c5666p-2"
        ),
    ),
)
