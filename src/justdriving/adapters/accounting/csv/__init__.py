"""CSV books: the accounting client and the exporter that write CSV files a bookkeeper imports."""
