"""PyTorch side of the FID Inception parity test (runs in the torch virtualenv, no TensorFlow):

    python torch_fid_features.py WEIGHTS.pt INPUT.npy OUTPUT.npy

INPUT: float32 [N, 299, 299, 3] already in the network's range; OUTPUT: the TorchScript
module's features [N, 2048], float32.
"""
import sys
import warnings

import numpy as np
import torch


def main(weights, inputs, output):
    warnings.filterwarnings("ignore", category=FutureWarning)  # torch.jit.load's notice
    net = torch.jit.load(weights, map_location="cpu").eval()
    x = np.load(inputs)
    with torch.no_grad():
        features = net(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))))
    np.save(output, features.numpy().astype(np.float32))


if __name__ == "__main__":
    main(*sys.argv[1:4])
