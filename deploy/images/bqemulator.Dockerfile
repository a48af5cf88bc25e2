# The BigQuery emulator has no image of its own; this wraps the PyPI package.
FROM python:3.11-slim
RUN pip install --no-cache-dir bqemulator==1.4.0 duckdb==1.5.5 duckdb-extension-spatial==1.5.5 numpy \
 && mkdir -p /root/.duckdb/extensions/v1.5.5/linux_amd64 \
 && cp "$(python -c 'import duckdb_extension_spatial, pathlib; print(pathlib.Path(duckdb_extension_spatial.__file__).parent)')/extensions/v1.5.5/spatial.duckdb_extension" \
       /root/.duckdb/extensions/v1.5.5/linux_amd64/
EXPOSE 9050 9060
CMD ["bqemulator", "start", "--rest-host", "0.0.0.0", "--grpc-host", "0.0.0.0", "--persistent", "--data-dir", "/data", "--project", "segment-demo"]
