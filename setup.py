import os.path as osp
import re

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_version():
    with open(osp.join(HERE, 'mmsiam', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


def parse_requirements(name):
    """Requirement lines of ``requirements/<name>.txt`` (comments dropped)."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


setup(
    name='mmsiam',
    version=read_version(),
    description='Siamese self-supervised visual pretraining (SiameseIM, '
    'ConMIM, multi-task asymmetric Siamese SSL) on the OpenMMLab stack',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    python_requires='>=3.10',
    install_requires=parse_requirements('runtime'),
    extras_require=dict(
        tests=parse_requirements('tests'),
        optional=parse_requirements('optional')),
    license='Apache License 2.0',
    zip_safe=False)
