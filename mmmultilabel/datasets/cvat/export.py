"""Where a CVAT export's annotation file and images are.

A CVAT export is ``annotations.xml`` beside an ``images/`` folder, zipped
(as downloaded) or extracted. A task's images are ``images/<name>``, a
project's ``images/<subset>/<name>``. An image path here is relative to
``images/``.
"""

import os
import os.path as osp
import shutil
import zipfile
from typing import IO, Dict, Iterable, Optional

import cv2
import numpy as np

from .labels import CvatError

#: The annotation file of an export.
ANNOTATION_FILE = 'annotations.xml'
#: The image folder of an export.
IMAGE_DIR = 'images'


class CvatExport:
    """A CVAT export: an ``.xml`` file (images in ``images/`` beside it, or
    in ``img_dir``) or the exported ``.zip``.

    Args:
        path (str): The ``.xml`` or ``.zip`` file.
        img_dir (str, optional): The image folder of an ``.xml``.
            Defaults to ``images/`` beside it.
    """

    def __init__(self, path: str, img_dir: Optional[str] = None) -> None:
        self.path = path
        self.zip: Optional[zipfile.ZipFile] = None
        self._frames: Optional[Dict[str, str]] = None
        if not osp.isfile(path):
            raise CvatError(f'{path}: file not found')
        if zipfile.is_zipfile(path):
            self.zip = zipfile.ZipFile(path)
            self.names = set(self.zip.namelist())
            xmls = [n for n in self.names if n.endswith('.xml')]
            xml = ANNOTATION_FILE if ANNOTATION_FILE in self.names else None
            if xml is None and len(xmls) == 1:
                xml = xmls[0]
            if xml is None:
                raise CvatError(
                    f'{path}: no {ANNOTATION_FILE} in the zip (found '
                    f'{sorted(xmls)}); export with the format "CVAT for '
                    'images 1.1"'
                )
            self.xml_name = f'{path}/{xml}'
            self._xml = xml
            self.img_dir = f'{path}/{IMAGE_DIR}'
        elif path.lower().endswith('.xml'):
            self.xml_name = path
            self.img_dir = img_dir or osp.join(osp.dirname(path), IMAGE_DIR)
        else:
            raise CvatError(
                f'{path}: neither a CVAT .xml nor an exported .zip'
            )

    def open_xml(self) -> IO[bytes]:
        """The annotation file, opened for reading bytes."""
        if self.zip is not None:
            return self.zip.open(self._xml)
        return open(self.path, 'rb')

    def frame_name(self, frame: int) -> str:
        """The image of video frame ``frame``: ``frame_NNNNNN`` with the
        extension found in the export's ``images/`` (CVAT writes ``.PNG``,
        Datumaro ``.png``), else ``frame_NNNNNN.PNG``."""
        if self._frames is None:  # stem -> file name, listed once
            if self.zip is not None:
                top = f'{IMAGE_DIR}/'
                names = [
                    n[len(top) :] for n in self.names if n.startswith(top)
                ]
            elif osp.isdir(self.img_dir):
                names = os.listdir(self.img_dir)
            else:
                names = []
            self._frames = {}
            for name in sorted(names, reverse=True):
                self._frames[osp.splitext(name)[0]] = name
        stem = f'frame_{frame:06d}'
        return self._frames.get(stem, f'{stem}.PNG')

    def image_path(self, rel: str) -> str:
        """Where image ``rel`` is, for messages."""
        return f'{self.img_dir}/{rel}'

    def has_image(self, rel: str) -> bool:
        """Whether image ``rel`` is in the export."""
        if self.zip is not None:
            return f'{IMAGE_DIR}/{rel}' in self.names
        return osp.isfile(osp.join(self.img_dir, rel))

    def image_size(self, rel: str) -> Optional[tuple]:
        """``(height, width)`` of image ``rel`` read from its file, or None
        when it cannot be decoded."""
        if self.zip is not None:
            raw = self.zip.read(f'{IMAGE_DIR}/{rel}')
        else:
            with open(osp.join(self.img_dir, rel), 'rb') as f:
                raw = f.read()
        img = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_UNCHANGED)
        return None if img is None else img.shape[:2]

    def extract_images(
        self, rels: Iterable[str], dest: str, force: bool = False
    ) -> int:
        """Copy the images ``rels`` of a zip to ``dest/<rel>``.

        Returns:
            int: How many files were written.

        Raises:
            CvatError: if a file exists in ``dest`` and not ``force``.
        """
        if self.zip is None:
            raise CvatError(f'{self.path}: only a zip export is extracted')
        rels = list(rels)
        if not force:
            there = [r for r in rels if osp.exists(osp.join(dest, r))]
            if there:
                raise CvatError(
                    f'{dest}: {len(there)} image(s) exist already (e.g. '
                    f'{there[0]}); pass --force to overwrite them'
                )
        for rel in rels:
            out = osp.join(dest, rel)
            os.makedirs(osp.dirname(out) or '.', exist_ok=True)
            with (
                self.zip.open(f'{IMAGE_DIR}/{rel}') as src,
                open(out, 'wb') as dst,
            ):
                shutil.copyfileobj(src, dst)
        return len(rels)
