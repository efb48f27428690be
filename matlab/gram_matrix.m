function G = gram_matrix(features, normalize)
% GRAM_MATRIX  Gram matrix G = F * F' of C x H x W features, divided by C*H*W.
%   The report's "Gram矩阵" formula. NORMALIZE defaults to true (the report
%   required it as an argument).
%
%   reshape is column-major, so the H*W columns of F are ordered differently
%   from numpy's row-major view in brushwork.model.losses.gram_matrix. Row c is still
%   channel c, and F * F' sums over the positions, so G does not depend on
%   their order: it equals the Python Gram matrix. Only a 2-D transpose is used.
  if nargin < 2
    normalize = true;
  end
  [C, H, W] = size(features);
  F = reshape(features, [C, H * W]);
  G = F * F';
  if normalize
    G = G / (C * H * W);
  end
end
