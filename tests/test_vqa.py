"The VQA accuracy and normalisation on cases from the official evaluation, the reward, and the offline loaders."
import os, time, pytest
from t2repro.vqa import normalize_answer, vqa_accuracy, vqa_reward, synthetic_vqa, load_vqa

@pytest.mark.parametrize('raw,norm', [('Two', '2'), ('the cat.', 'cat'), ("isnt", "isn't"), ('yes!', 'yes'),
                                      ('10:30', '10:30'), ('1,500', '1500'), ('ten dollars', '10 dollars'),
                                      ('an apple', 'apple'), ('red/blue', 'red blue'), ('x - y', 'x y'), ('3.14', '3.14')])
def test_normalize(raw, norm): assert normalize_answer(raw) == norm

def test_accuracy_modes():
    ans = ['yes'] * 3 + ['no'] * 7
    assert vqa_accuracy('yes', ans, 'simple') == 1.0
    assert abs(vqa_accuracy('yes', ans) - 0.9) < 1e-9       # leave-one-out: 3 subsets keep only two "yes"
    assert vqa_accuracy('No.', ans) == 1.0
    assert vqa_reward('maybe', ans) == -0.1 and vqa_reward('no', ans) == 1.0

def test_synthetic_is_seeded_and_answerable():
    a, b = synthetic_vqa(12, seed=4), synthetic_vqa(12, seed=4)
    assert [r['answers'] for r in a] == [r['answers'] for r in b]
    assert a[0]['image'].tobytes() == b[0]['image'].tobytes()
    assert all(vqa_accuracy(r['truth'], r['answers']) >= 0.9 for r in a)

def test_offline_loader_error(monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    t = time.time()
    with pytest.raises(ConnectionError, match='synthetic_vqa'): load_vqa('okvqa', 'test', limit=1)
    assert time.time() - t < 5
