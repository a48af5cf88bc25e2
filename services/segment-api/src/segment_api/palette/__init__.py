"""The field palette: which objects, fields, events and operators a rule may use (and the
CRM RFC's /customers/fields).
"""
