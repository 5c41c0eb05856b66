from .attr_groups_check_hook import AttrGroupsCheckHook

__all__ = ['AttrGroupsCheckHook']
