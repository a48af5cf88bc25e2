"""Preview and insights: what the warehouse says of rules and segments (preview with node
counts and edit diff, detail, members, performance). Their routes sit with the segment
routes they extend.
"""
