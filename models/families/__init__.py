"""Model families of the registry: MoME-RO, M4oE, MOME (breast MRI), each a plug-in (see ``base``)."""

from models.families.base import GroupRule, ModelFamily, families, get_family, register_family

__all__ = ["GroupRule", "ModelFamily", "families", "get_family", "register_family"]
