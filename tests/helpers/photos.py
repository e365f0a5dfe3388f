"""A folder of real photos (scikit-image's), as a user's collection."""
import numpy as np
from PIL import Image

# (path under the root, scikit-image photo): every extension, in two cases,
# at three depths.
PHOTOS = [
    ('astronaut.jpg', 'astronaut'),
    ('holiday/coffee.JPG', 'coffee'),
    ('holiday/day2/chelsea.jpeg', 'chelsea'),
    ('holiday/day2/rocket.png', 'rocket'),
    ('pets/cat.webp', 'cat'),
    ('pets/old/immunohistochemistry.BMP', 'immunohistochemistry'),
]
NOT_IMAGES = ['notes.txt', '.DS_Store', 'holiday/day2/clip.mp4',
              'pets/old/cat.xmp']


def write_photo_folder(root, photos=PHOTOS, not_images=NOT_IMAGES):
    """Write ``photos`` (160 x 120 pixels) and ``not_images`` under
    ``root``; returns ``root``."""
    from skimage import data as skdata
    for rel, name in photos:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        image = getattr(skdata, name)()
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        Image.fromarray(image[..., :3]).resize((160, 120)).save(path)
    for rel in not_images:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b'not an image')
    return root
