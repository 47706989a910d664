"""Network building blocks and the MoME-RO segmentation network."""

from models.networks.alignment import TwoWayAlignment
from models.networks.mome import MixtureOfMulticenterExperts, NoisyTopKGate
from models.networks.mome_ro import MomeRoNet

__all__ = ["MixtureOfMulticenterExperts", "MomeRoNet", "NoisyTopKGate", "TwoWayAlignment"]
