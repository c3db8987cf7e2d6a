# sentence-transformers builds its modules from names in the model folder's modules.json
# ("sentence_transformers.models.Transformer" …) and reads its own version from metadata.
from PyInstaller.utils.hooks import collect_submodules, copy_metadata

hiddenimports = collect_submodules("sentence_transformers")
datas = copy_metadata("sentence_transformers")
