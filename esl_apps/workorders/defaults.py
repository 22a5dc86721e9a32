"""The default workflow and SLA limits. Migration 0008 seeds frozen copies of
these; they are also what the settings page offers to restore."""

# dispatched → repairing → repair done → revisit → closed; a failed revisit
# re-dispatches (the source documents: 已派工 → 维修中 → 维修已完工 → 回访 →
# 工单已完工, 回访不满意则再次派单).
ADMIN_AND_SUPERVISOR = ["supervisor", "admin"]
DEFAULT_WORKFLOW = {
    "initial": "dispatched",
    "states": [
        {"code": "dispatched", "zh": "已派工", "en": "Dispatched"},
        {"code": "repairing", "zh": "维修中", "en": "Repairing", "responded": True},
        {"code": "repaired", "zh": "维修已完工", "en": "Repair done", "resolved": True,
         "revisit": True},
        {"code": "revisit", "zh": "回访中", "en": "Revisit"},
        {"code": "closed", "zh": "工单已完工", "en": "Closed", "final": True},
    ],
    "transitions": [
        {"from": "dispatched", "to": "repairing", "roles": ["field", *ADMIN_AND_SUPERVISOR],
         "zh": "开始维修", "en": "Start repair"},
        {"from": "repairing", "to": "repaired", "roles": ["field", *ADMIN_AND_SUPERVISOR],
         "zh": "维修完工", "en": "Repair done"},
        {"from": "repaired", "to": "revisit", "roles": ["agent", *ADMIN_AND_SUPERVISOR],
         "zh": "开始回访", "en": "Start revisit"},
        {"from": "revisit", "to": "closed", "roles": ["agent", *ADMIN_AND_SUPERVISOR],
         "zh": "回访满意，结单", "en": "Close: customer satisfied"},
        {"from": "revisit", "to": "dispatched", "roles": ["agent", *ADMIN_AND_SUPERVISOR],
         "redispatch": True, "zh": "回访不满意，重新派单", "en": "Revisit failed: re-dispatch"},
    ],
}

# Business minutes (response, resolution) at medium priority; other priorities
# scale them. An urgent repair (抢修: a gas leak, a burst main) counts around the
# clock on the "24h" schedule; everything else in the workflow's schedule.
TYPE_LIMITS = {"repair": (120, 960), "complaint": (240, 2400), "consult": (120, 480),
               "suggestion": (480, 4800), "business": (240, 2400), "other": (240, 2400)}
PRIORITY_FACTORS = {"urgent": 0.25, "high": 0.5, "medium": 1, "low": 2}


def default_sla_rules() -> list[dict]:
    rules = []
    for type_, (response, resolve) in TYPE_LIMITS.items():
        for priority, factor in PRIORITY_FACTORS.items():
            resp = int(response * factor)
            rules.append({"type": type_, "priority": priority, "response_minutes": resp,
                          "resolve_minutes": int(resolve * factor),
                          "warn_before": min(60, max(10, resp // 4)),
                          "schedule": "24h" if (type_, priority) == ("repair", "urgent")
                          else ""})
    return rules
