"""The CHiME-9 ECHI baseline (MCxTFGridNet) re-implemented.

``model`` (the network), ``inference`` (STFT and windowed whole-session inference, one
partner or several batched), ``batching`` (windows per call and working sizes from a memory
budget), ``precision`` (float32 / TF32 modes on CUDA) and ``system`` (the registered
``baseline`` system). Nothing is imported here, so that
registering the system does not load torch.
"""
