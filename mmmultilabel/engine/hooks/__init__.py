from .attr_groups_check_hook import AttrGroupsCheckHook
from .attr_match_cost_warmup_hook import AttrMatchCostWarmupHook

__all__ = ['AttrGroupsCheckHook', 'AttrMatchCostWarmupHook']
