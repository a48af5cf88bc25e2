"""Segments: their routes (with the preview, detail, members and performance routes under
/segments), changes (`use_cases`), reads, all their SQL (`repository`), rule input,
embedding, announcements, provisioning and plan limits.
"""
