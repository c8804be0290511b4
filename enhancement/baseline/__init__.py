"""The CHiME-9 ECHI baseline (MCxTFGridNet) re-implemented.

``model`` (the network), ``inference`` (STFT and windowed whole-session inference) and
``system`` (the registered ``baseline`` system). Nothing is imported here, so that
registering the system does not load torch.
"""
