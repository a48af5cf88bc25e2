"""What several features read: typed rows, the visibility rule (`policy`, and `visibility`
as a route dependency), the cache, the warehouse port and adapter, the warehouse read
model, the members SQL, and the API schemas.
"""
